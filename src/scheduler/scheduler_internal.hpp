// One delivery attempt, shared by the scheduler's attempt
// (scheduler_attempt.cpp) and its pending recipients
// (scheduler_pending.cpp). Internal to the scheduler.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace bh {

// One delivery attempt of one message, possibly across several connectors.
struct Scheduler::Attempt {
  std::shared_ptr<const queue::QueuedMessage> message;
  std::vector<connectors::RecipientResult> results;
  std::mutex mutex;
  std::atomic<std::size_t> outstanding{0};
  // Reports applied in this attempt: removed from the store once the
  // outcome is recorded (connector, reference).
  std::vector<std::pair<std::string, std::string>> applied_reports;
  bool reports_durable = true;
};

}  // namespace bh
