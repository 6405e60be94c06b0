// The io-thread half of the SMS connector (sms_connector.hpp): the parts
// waiting for a bind, the submits in flight, and each request's results
// until every recipient has one. Everything here runs on the io thread;
// what blocks (recording a part in the store) goes to the store thread
// through the `record` callback, whose answer comes back on the io thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/sms/smpp_bind.hpp"
#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace bh::connectors::sms {

// One recipient of a request, as the store thread prepared it.
struct RecipientWork {
  std::size_t slot = 0;  // index into the request's results
  std::string number;    // E.164
  std::string tag;       // the pending reference (delivery_tag)
  int parts = 1;         // the message's parts in all
  // The parts still to submit (1-based numbers with their submit_sm);
  // empty: every part was recorded before, the recipient is pending at once.
  std::vector<std::pair<int, smpp::ShortMessage>> to_send;
  int already_recorded = 0;
  // Of those, parts an earlier attempt had accepted without a message id
  // (recorded under a synthetic id, noid_part_id): no receipt can settle
  // the recipient, it is delivered at the answers.
  std::vector<int> recorded_without_id;
};

// The id a part accepted without a message id is recorded under, so that
// a retry skips it; no receipt can match it (an SMSC's ids have no ':' of
// this form, and the tag is ours).
std::string noid_part_id(const std::string& tag, int part);
bool is_noid_part_id(const std::string& message_id);

// A delivery request on its way: results already known (filled by the
// store thread) and the recipients whose parts go to the SMSC.
struct SmsRequest {
  std::string queue_id;
  std::vector<RecipientResult> results;
  std::vector<bool> final;  // results[i] is set
  std::vector<RecipientWork> work;
  DeliveryDone done;
  bool answered = false;
  // io-thread bookkeeping per work item
  std::vector<int> recorded;
  // Records asked of the store thread (answered or not): a bounce forgets
  // what they write even when their answer has not come yet.
  std::vector<int> record_requested;
  // The recipient bounced: a later answer records nothing (results may be
  // moved out by then: done() took them).
  std::vector<bool> bounced;
  std::vector<int> submitted;
  std::vector<std::vector<std::string>> message_ids;
  // Parts the SMSC accepted without a message id (SubmitAnswered status 0,
  // message_id ""): submitted, but nothing can be recorded or matched.
  std::vector<std::vector<int>> without_id;
};

class SmsDispatch {
 public:
  // record(reference, part, parts, message_id, answer): on the store
  // thread, durable; answer(ok) is then called on the io thread.
  using Record =
      std::function<void(const std::string& tag, int part, int parts, const std::string& message_id,
                         std::function<void(bool ok, std::string error)> answer)>;
  // forget(reference): the recipient bounced, its recorded parts go.
  using Forget = std::function<void(const std::string& tag)>;
  // release(reference): the recipient is delivered without a receipt to
  // wait for; its recorded parts go once that result is durable.
  using Release = std::function<void(const std::string& tag)>;

  SmsDispatch(boost::asio::io_context& io, const SmsSettings& settings, Record record,
              Forget forget, Release release);
  ~SmsDispatch();

  void set_binds(std::vector<SmppBind*> binds);
  // A prepared request (on the io thread).
  void add(std::shared_ptr<SmsRequest> request);
  // Something may have become ready (a bind bound, a window freed).
  void kick();
  void answered(SmppBind& bind, const smpp::SubmitAnswered& answer);
  void lost(SmppBind& bind, const smpp::SubmitLost& lost);
  // bind's session closed: no late answer can come for its timed-out submits.
  void session_closed(SmppBind& bind);
  // stop(): every request not answered yet is deferred with reason.
  void abandon(const std::string& reason);
  std::size_t queued() const { return queue_.size(); }
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  struct Part {
    std::shared_ptr<SmsRequest> request;
    std::size_t work = 0;  // index into request->work
    int part = 1;
    smpp::ShortMessage pdu;
    std::chrono::steady_clock::time_point queued_at;
  };
  struct Flight {
    Part part;
    std::string bind;
    std::uint32_t sequence = 0;
  };

  bool closed(const Part& part) const;
  void pump();
  void expire();
  void arm();
  void finish(SmsRequest& request, std::size_t work, RecipientResult result);
  void settle_if_complete(const std::shared_ptr<SmsRequest>& request, std::size_t work);
  void maybe_done(SmsRequest& request);

  boost::asio::io_context& io_;
  const SmsSettings& settings_;
  Record record_;
  Forget forget_;
  Release release_;
  std::vector<SmppBind*> binds_;
  std::size_t next_bind_ = 0;
  std::deque<Part> queue_;
  std::map<std::uint64_t, Flight> in_flight_;
  // Submits that timed out on a session still open: a late answer records
  // the part (the retry then skips it) instead of being dropped.
  std::map<std::uint64_t, Flight> timed_out_;
  std::uint64_t next_token_ = 0;
  struct Timer;
  std::unique_ptr<Timer> timer_;
};

// The diagnostic of whatever is deferred because the connector stops.
inline constexpr const char* kStopping = "the gateway is stopping";

// A deferred result (no remote MTA named): the one helper for all of them.
inline RecipientResult deferred_result(std::string status, std::string diagnostic) {
  return {Outcome::deferred, std::move(status), std::move(diagnostic)};
}

// The "sms_delivery" log line and the request's answer, once all is known.
void log_sms_delivery(const SmsSettings& settings, const std::string& queue_id,
                      const std::string& number, const RecipientResult& result);

}  // namespace bh::connectors::sms
