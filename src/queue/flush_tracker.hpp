// Counts the intake's spool flushes (the group commit's syncfs), so that
// the done log can share one instead of paying a flush of its own: a syncfs
// that starts after the log's write makes that write durable too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace bh::queue {

class FlushTracker {
 public:
  // Around each syncfs of the spool's file system.
  std::uint64_t begin() {
    std::lock_guard lock(mutex_);
    return ++started_;
  }
  void end(std::uint64_t number, bool ok) {
    {
      std::lock_guard lock(mutex_);
      if (ok && number > succeeded_) succeeded_ = number;
    }
    changed_.notify_all();
  }

  std::uint64_t started() const {
    std::lock_guard lock(mutex_);
    return started_;
  }
  // True when a flush numbered above `after` succeeded within timeout.
  bool wait_beyond(std::uint64_t after, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return succeeded_ > after; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t started_ = 0;
  std::uint64_t succeeded_ = 0;
};

}  // namespace bh::queue
