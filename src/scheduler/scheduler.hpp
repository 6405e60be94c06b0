// Moves messages from incoming/ into a bounded active window, hands them to
// their connectors and records the outcome: delivered messages leave the
// spool, deferred ones wait in deferred/ (file mtime = next attempt, as
// Postfix does), messages with refused recipients go to hold/ until DSNs
// exist. Runs on its own thread; deliveries run on a small thread pool.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <unordered_set>

#include "connectors/registry.hpp"
#include "policy/routes.hpp"
#include "queue/spool.hpp"

namespace bh {

struct SchedulerSettings {
  std::size_t active_limit = 1000;
  std::chrono::seconds retry_delay{300};
  std::chrono::seconds max_retry_delay{4000};
  std::chrono::seconds max_lifetime{432000};
  std::chrono::milliseconds incoming_scan{1000};  // picks up `queue release/retry`
  unsigned delivery_threads = 4;
};

class Scheduler {
 public:
  Scheduler(const queue::Spool& spool, const RoutingTable& routes,
            const connectors::Registry& registry, SchedulerSettings settings);
  ~Scheduler();

  void start();
  void stop();
  // Thread-safe: a message is durable in incoming/.
  void message_arrived(const std::string& id);

 private:
  enum class Disposition { delivered, deferred, held, gone };

  void enqueue(const std::string& id);
  void pump();
  void scan_incoming();
  void schedule_scan();
  void load_deferred();
  void arm_deferred_timer();
  void deferred_due();
  Disposition deliver(const std::string& id);
  void finished(const std::string& id, Disposition disposition);

  const queue::Spool& spool_;
  const RoutingTable& routes_;
  const connectors::Registry& registry_;
  SchedulerSettings settings_;
  boost::asio::io_context io_;
  boost::asio::steady_timer scan_timer_;
  boost::asio::steady_timer deferred_timer_;
  boost::asio::thread_pool delivery_pool_;
  std::thread thread_;
  std::deque<std::string> ready_;
  std::unordered_set<std::string> known_;  // in ready_ or active
  std::size_t active_ = 0;
  std::multimap<std::chrono::system_clock::time_point, std::string> deferred_;
};

}  // namespace bh
