// Reports for pending recipients: connectors hand them in (PendingSink),
// they are made durable in the pending store, and the node that holds the
// message is told. A poll applies reports that arrived at other nodes, or
// while the message was in delivery, and forgets reports whose message is
// gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "connectors/connector.hpp"
#include "queue/spool.hpp"
#include "scheduler/scheduler.hpp"
#include "store/pending_store.hpp"

namespace bh {

class PendingReports final : public connectors::PendingSink {
 public:
  PendingReports(store::PendingStore& store, const queue::Spool& spool, Scheduler& scheduler,
                 std::string node, std::chrono::milliseconds poll = std::chrono::seconds(2));
  ~PendingReports() override;

  bool resolve(const std::string& connector, const std::string& reference,
               const connectors::RecipientResult& result) override;

  void start();
  void stop();

 private:
  void poll_once();

  store::PendingStore& store_;
  const queue::Spool& spool_;
  Scheduler& scheduler_;
  std::string node_;
  std::chrono::milliseconds poll_;
  std::set<std::string> missing_;  // reports whose message the last poll did not find
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bh
