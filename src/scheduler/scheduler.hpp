// Moves messages from incoming/ into a bounded active window, hands their
// recipients to the connectors their routes name, and records the outcome
// (scheduler/outcome.hpp). Deferred messages wait in deferred/ with the
// next attempt as the file's mtime, as Postfix does. Runs on its own
// thread; loading and recording run on a small thread pool.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "connectors/registry.hpp"
#include "policy/policy_set.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "trace/event.hpp"

namespace bh {
namespace store {
class PendingStore;
}

struct SchedulerSettings {
  std::size_t active_limit = 1000;
  std::size_t active_bytes_limit = 512u << 20;  // message bytes in delivery at once
  OutcomeSettings outcome;
  std::chrono::milliseconds incoming_scan{1000};  // picks up `queue release/retry/flush`
  unsigned pool_threads = 4;
  std::function<std::string()> make_queue_id;
  // Pending recipients by reference (null: a pending result is deferred).
  store::PendingStore* pending = nullptr;
  std::string node;  // this node's name in the store
  // The message trace (routes, attempts, outcomes, DSNs); null: not traced.
  trace::Sink* trace = nullptr;
};

// Messages by queue state, as the scheduler counts them (for /metrics).
struct QueueCounts {
  std::size_t incoming = 0;  // waiting for the active window
  std::size_t active = 0;    // in delivery
  std::size_t deferred = 0;  // waiting for their next attempt
};

class Scheduler {
 public:
  Scheduler(const queue::Spool& spool, queue::DoneLog& done_log, const PolicyHolder& policy,
            const connectors::Registry& registry, SchedulerSettings settings);
  ~Scheduler();

  void start();
  void stop();
  // Thread-safe: a message is durable in incoming/.
  void message_arrived(const std::string& id);
  // Thread-safe: a report came for the message; attempt it now if it waits
  // in deferred/ (a message in delivery is woken by the next report poll).
  void wake(const std::string& id);
  // Thread-safe, for a graceful stop: no new attempt starts; those running
  // finish (in_delivery() counts them).
  void pause();
  std::size_t in_delivery() const { return in_delivery_.load(); }
  // Thread-safe: from counters the scheduler keeps, no directory walk.
  QueueCounts counts() const {
    return {ready_count_.load(), in_delivery_.load(), deferred_count_.load()};
  }

 private:
  struct Attempt;

  void enqueue(const std::string& id);
  void pump();
  void scan_incoming();
  void schedule_scan();
  void load_deferred();
  void arm_deferred_timer();
  void deferred_due();
  void start_attempt(const std::string& id);
  void finish_attempt(const std::shared_ptr<Attempt>& attempt);
  void finished(const std::string& id, const RecordedOutcome& outcome);
  connectors::RecipientResult pending_result(const Recipient& recipient, Attempt& attempt);
  void record_pending(Attempt& attempt, const std::string& connector,
                      const std::vector<std::size_t>& indexes);

  const queue::Spool& spool_;
  queue::DoneLog& done_log_;    // per-recipient results, durable as they arrive
  const PolicyHolder& policy_;  // routes, current at each attempt
  const connectors::Registry& registry_;
  SchedulerSettings settings_;
  boost::asio::io_context io_;
  boost::asio::steady_timer scan_timer_;
  boost::asio::steady_timer deferred_timer_;
  boost::asio::thread_pool pool_;
  std::thread thread_;
  std::deque<std::string> ready_;
  std::unordered_set<std::string> known_;  // in ready_ or active
  std::size_t active_ = 0;
  std::atomic<std::size_t> in_delivery_{0};     // active_, readable from any thread
  std::atomic<std::size_t> ready_count_{0};     // ready_.size(), for counts()
  std::atomic<std::size_t> deferred_count_{0};  // deferred_.size(), for counts()
  void update_counts() {
    ready_count_.store(ready_.size());
    deferred_count_.store(deferred_.size());
  }
  bool paused_ = false;
  std::size_t active_bytes_ = 0;
  std::unordered_map<std::string, std::size_t> active_sizes_;
  std::multimap<std::chrono::system_clock::time_point, std::string> deferred_;
};

}  // namespace bh
