#include "intake/submit_wait.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace bh::intake {
namespace {

// How often a waiting caller looks at `stopping`.
constexpr std::chrono::milliseconds kStopCheck{200};

// Shared with the callback: it may run after the caller gave up.
struct Wait {
  std::mutex mutex;
  std::condition_variable answered;
  std::optional<Submitted> result;
};

}  // namespace

std::optional<Submitted> submit_and_wait(Ingest& ingest, Submission submission,
                                         std::chrono::milliseconds limit,
                                         const std::atomic<bool>& stopping) {
  auto wait = std::make_shared<Wait>();
  ingest.submit(std::move(submission), [wait](Submitted submitted) {
    std::lock_guard lock(wait->mutex);
    wait->result = std::move(submitted);
    wait->answered.notify_all();
  });
  auto give_up_at = std::chrono::steady_clock::now() + limit;
  std::unique_lock lock(wait->mutex);
  while (!wait->result) {
    if (stopping) return std::nullopt;
    auto now = std::chrono::steady_clock::now();
    if (now >= give_up_at) return std::nullopt;
    wait->answered.wait_for(
        lock, std::min<std::chrono::steady_clock::duration>(kStopCheck, give_up_at - now));
  }
  return std::move(wait->result);
}

}  // namespace bh::intake
