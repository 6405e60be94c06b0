// The sessions that are open, so a shutdown can tell each of them at once
// (each wake runs the session's own check on its own thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace bh::smtp {

class SessionTracker {
 public:
  using Wake = std::function<void()>;  // thread-safe: posts to the session's executor

  std::uint64_t add(Wake wake) {
    std::lock_guard lock(mutex_);
    sessions_.emplace(++next_, std::move(wake));
    return next_;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }
  void wake_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, wake] : sessions_) wake();
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Wake> sessions_;
  std::uint64_t next_ = 0;
};

}  // namespace bh::smtp
