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
#include "connectors/sms/smpp_bind.hpp"
#include "connectors/sms/sms_connector.hpp"
#include "connectors/sms/sms_dispatch.hpp"
#include "connectors/sms/sms_group_commit.hpp"
#include "connectors/sms/sms_inbound.hpp"
#include "connectors/sms/sms_store.hpp"
#include "store/pending_store.hpp"

namespace bh::connectors::sms {

// The sweep (sms_connector.hpp): settles what a race between nodes left,
// mails timed-out incoming parts, purges old rows.
inline constexpr auto kSweepInterval = std::chrono::seconds(10);
inline constexpr std::size_t kResolvesPerRound = 32;

// One job of the store thread.
struct StoreJob {
  enum class Kind {
    task,     // anything else, run in order after the round's writes
    part,     // record a submitted part, then answer
    deliver,  // a deliver_sm: a receipt (a write) or an incoming SMS (a task)
    forget,   // drop a reference's parts and receipts
  };
  Kind kind = Kind::task;
  std::function<void()> task;
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
  std::thread store_thread;
  std::chrono::steady_clock::time_point next_sweep;
  // References the receipts may have settled, with the receipt's number,
  // to resolve (store thread only). A round resolves at most
  // kResolvesPerRound of them, so that each resolve's own commit in the
  // pending store does not hold up the parts and deliveries queued behind.
  std::deque<std::pair<std::string, std::string>> to_resolve;
  std::set<std::string> resolve_queued;

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
  void post_store(StoreJob job);
  void post_task(std::function<void()> task);

  // --- Mail -> SMS, the blocking half (store thread).
  void prepare(DeliveryRequest request, DeliveryDone done);

  // --- The store thread (sms_store_thread.cpp).
  void run_store();
  void run_round(std::deque<StoreJob>& round);
  // A receipt's write, in the round's group; its answer's status.
  std::uint32_t record_receipt(const smpp::ShortMessage& message,
                               std::optional<std::string>& reference);
  // Settles reference and hands it to the sink; true when it may be forgotten.
  bool resolve(const std::string& reference, const std::string& number);
  void forget_all(const std::vector<std::string>& references);
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
    StoreJob job;
    job.kind = StoreJob::Kind::deliver;
    job.bind = &bind;
    job.session = bind.session();
    job.delivered = delivered;
    post_store(std::move(job));
  }
  void unbound(SmppBind&, const std::string&) override { dispatch->kick(); }
};

}  // namespace bh::connectors::sms
