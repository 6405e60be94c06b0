// Message text held in memory by all sessions together is bounded: when the
// budget is spent, a message gets "452 4.3.1" (try later) instead of the
// gateway running out of memory under many large, slow senders.
#pragma once

#include <atomic>
#include <cstddef>

namespace bh::smtp {

class ContentBudget {
 public:
  explicit ContentBudget(std::size_t limit) : limit_(limit) {}

  bool try_take(std::size_t bytes) {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void give_back(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace bh::smtp
