// The inside of the SMS connector (sms_connector.hpp), shared by its two
// halves: sms_connector.cpp (the io thread, the binds, the public calls)
// and sms_store_thread.cpp (the store thread's rounds).
//
// The store thread works in rounds: it takes every job queued meanwhile,
// writes the parts, receipts and forgets among them in one transaction of
// the shared store (sms_group_commit.hpp: one fsync for the round), answers
// them once that is durable, then runs the other jobs (preparing
// deliveries, incoming SMS) in their order, then resolves what the round's
// receipts settled. Writes may so overtake a preparation queued before
// them: it then sees more parts recorded, never fewer.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/destination_rules.hpp"
#include "connectors/sms/delivery_receipt.hpp"
#include "connectors/sms/smpp_bind.hpp"
#include "connectors/sms/sms_connector.hpp"
#include "connectors/sms/sms_dispatch.hpp"
#include "connectors/sms/sms_group_commit.hpp"
#include "connectors/sms/sms_inbound.hpp"
#include "connectors/sms/sms_store.hpp"
#include "store/pending_store.hpp"

namespace bh::connectors::sms {

inline constexpr std::size_t kResolvesPerRound = 32;

// A delivery's DeliveryDone that answers once: the normal path (io thread)
// and a fallback (the store thread could not run the job: an exception, or
// it has ended) may both try.
class OnceDone {
 public:
  OnceDone(DeliveryDone done, std::size_t recipients)
      : done_(std::move(done)), recipients_(recipients) {}
  void operator()(std::vector<RecipientResult> results) {
    if (!used_.exchange(true)) done_(std::move(results));
  }
  // Every recipient deferred (4.3.0) with reason.
  void defer(const std::string& reason) {
    (*this)(std::vector<RecipientResult>(recipients_, deferred_result("4.3.0", reason)));
  }

 private:
  DeliveryDone done_;
  std::size_t recipients_;
  std::atomic<bool> used_{false};
};

// One job of the store thread.
struct StoreJob {
  enum class Kind {
    task,     // anything else, run in order after the round's writes
    part,     // record a submitted part, then answer
    deliver,  // a receipt (a write; an incoming SMS goes to the inbound thread)
    forget,   // drop a reference's parts and receipts
  };
  Kind kind = Kind::task;
  std::function<void()> task;
  // task: answers what it stands for when it cannot run (fail_job).
  std::function<void(const std::string& reason)> fallback;
  std::string tag;  // part, forget
  PartRecord part;
  std::function<void(bool ok, std::string error)> answer;  // part
  SmppBind* bind = nullptr;                                // deliver
  std::uint64_t session = 0;
  smpp::Delivered delivered;
};

struct SmsConnector::Impl final : BindHandler {
  explicit Impl(const SmsSettings& s) : settings(s) {}

  SmsSettings settings;
  DestinationCheck destinations;  // settings.destinations, compiled by create()
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread io_thread;

  // The store thread's jobs, in order.
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<StoreJob> jobs;
  bool store_thread_end = false;
  bool store_thread_gone = false;  // run_store returned: post_store fails jobs inline
  std::thread store_thread;
  std::chrono::steady_clock::time_point next_sweep;
  // References the receipts may have settled, with the receipt's number,
  // to resolve (store thread only). A round resolves at most
  // kResolvesPerRound of them, so that each resolve's own commit in the
  // pending store does not hold up the parts and deliveries queued behind.
  std::deque<std::pair<std::string, std::string>> to_resolve;
  std::set<std::string> resolve_queued;

  // The inbound thread (sms_store_thread.cpp): incoming SMS into the
  // intake (which waits for the intake's group commit) and the sweep's
  // flush of timed-out parts, so that receipts and parts never wait
  // behind the intake. Its jobs get run = false when the thread has ended.
  std::mutex inbound_mutex;
  std::condition_variable inbound_wake;
  std::deque<std::function<void(bool run)>> inbound_jobs;
  bool inbound_end = false;
  bool inbound_gone = false;
  std::thread inbound_thread;

  std::atomic<bool> stopping{false};
  std::atomic<PendingSink*> sink{nullptr};
  // Set by attach_intake before the binds start; read on the store thread.
  intake::Ingest* ingest = nullptr;
  const directory::DirectoryView* directory = nullptr;
  std::shared_ptr<GroupCommitDatabase> grouped;  // the store the SmsStore writes through
  std::unique_ptr<SmsStore> store;
  // The scheduler's pending entries, read for a reference's recipient when
  // the sweep resolves it (the number of its diagnostic).
  std::unique_ptr<store::PendingStore> pending;
  std::string store_problem = "the SMS connector has no store yet";
  std::unique_ptr<SmsInbound> inbound;

  // Delivered recipients (receipts not requested, or a part without a
  // message id) whose recorded parts go once their result is durable
  // (results_recorded). Any thread.
  std::mutex release_mutex;
  std::set<std::string> release_when_recorded;

  // io thread only.
  std::vector<std::unique_ptr<SmppBind>> binds;
  std::unique_ptr<SmsDispatch> dispatch;

  void start();
  void run_io();
  void log_problem(const char* where, const std::string& what) const;
  // Queues job, or, once the store thread has ended, fails it at once.
  void post_store(StoreJob job);
  void post_task(std::function<void()> task);
  // Answers a job that cannot run (an exception, the thread has ended):
  // a delivery deferred 4.3.0 through its fallback, a part's record
  // answer(false), a deliver_sm ESME_RX_T_APPN (the SMSC sends it again).
  void fail_job(StoreJob& job, const std::string& reason);

  // --- Mail -> SMS, the blocking half (store thread).
  void prepare(DeliveryRequest request, DeliveryDone done);

  // --- The store thread (sms_store_thread.cpp).
  void run_store();
  void run_round(std::deque<StoreJob>& round);
  void run_inbound();
  void post_inbound(std::function<void(bool run)> job);
  // An incoming SMS (not a receipt), on the inbound thread.
  void receive_sms(SmppBind* bind, std::uint64_t session, const smpp::Delivered& delivered);
  void answer_deliver(const StoreJob& job, std::uint32_t status);
  void failed(StoreJob& job, const std::exception& error);
  // A receipt's write, in the round's group; its answer's status.
  std::uint32_t record_receipt(const smpp::ShortMessage& message,
                               std::optional<std::string>& reference);
  // Settles reference and hands it to the sink; true when it may be marked settled.
  bool resolve(const std::string& reference, const std::string& number);
  void mark_all_settled(const std::vector<std::string>& references);
  std::string number_of_reference(const std::string& reference);
  void sweep();

  // --- BindHandler (io thread).
  void bound(SmppBind&) override { dispatch->kick(); }
  void submit_answered(SmppBind& bind, const smpp::SubmitAnswered& answer) override {
    dispatch->answered(bind, answer);
  }
  void submit_lost(SmppBind& bind, const smpp::SubmitLost& lost) override {
    dispatch->lost(bind, lost);
  }
  void delivered(SmppBind& bind, const smpp::Delivered& delivered) override {
    if (!is_receipt(delivered.message)) {
      std::uint64_t session = bind.session();
      return post_inbound([this, bind = &bind, session, delivered](bool run) {
        if (run) return receive_sms(bind, session, delivered);
        StoreJob job;  // only for its answer
        job.bind = bind;
        job.session = session;
        job.delivered = delivered;
        answer_deliver(job, smpp::status::temporary_app_error);
      });
    }
    StoreJob job;
    job.kind = StoreJob::Kind::deliver;
    job.bind = &bind;
    job.session = bind.session();
    job.delivered = delivered;
    post_store(std::move(job));
  }
  void unbound(SmppBind& bind, const std::string&) override {
    dispatch->session_closed(bind);
    dispatch->kick();
  }
};

}  // namespace bh::connectors::sms
