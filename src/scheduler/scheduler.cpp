// The scheduler's queue window: messages from incoming/ (and deferred/ when
// due) into a bounded active window, and out of it when their attempt ends.
#include "scheduler/scheduler.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include <boost/asio/post.hpp>

#include "util/log.hpp"

namespace bh {
namespace {

using Clock = std::chrono::system_clock;

}  // namespace

Scheduler::Scheduler(const queue::Spool& spool, queue::DoneLog& done_log,
                     const PolicyHolder& policy, const connectors::Registry& registry,
                     SchedulerSettings settings)
    : spool_(spool),
      done_log_(done_log),
      policy_(policy),
      registry_(registry),
      settings_(std::move(settings)),
      scan_timer_(io_),
      deferred_timer_(io_),
      pool_(settings_.pool_threads) {
  settings_.outcome.policy = &policy_;
  if (settings_.outcome.trace == nullptr) settings_.outcome.trace = settings_.trace;
  // Success reports ask the connectors for what they kept (a fax's page one).
  if (!settings_.outcome.connector)
    settings_.outcome.connector = [this](const std::string& name) { return registry_.find(name); };
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  boost::asio::post(io_, [this] {
    scan_incoming();
    load_deferred();
    schedule_scan();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void Scheduler::stop() {
  if (!thread_.joinable()) return;
  pool_.join();  // running attempts record their outcome first
  io_.stop();
  thread_.join();
}

void Scheduler::message_arrived(const std::string& id) {
  boost::asio::post(io_, [this, id] {
    enqueue(id);
    pump();
  });
}

void Scheduler::enqueue(const std::string& id) {
  if (known_.insert(id).second) ready_.push_back(id);
}

void Scheduler::scan_incoming() {
  for (const std::string& id : spool_.list(queue::State::incoming)) enqueue(id);
  pump();
}

void Scheduler::schedule_scan() {
  scan_timer_.expires_after(settings_.incoming_scan);
  scan_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    scan_incoming();
    schedule_scan();
  });
}

void Scheduler::load_deferred() {
  for (const std::string& id : spool_.list(queue::State::deferred)) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) != 0) continue;
    deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
  }
  update_counts();
  arm_deferred_timer();
}

void Scheduler::arm_deferred_timer() {
  if (deferred_.empty()) return;
  auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      deferred_.begin()->first - Clock::now());
  deferred_timer_.expires_after(std::max(wait, std::chrono::steady_clock::duration::zero()));
  deferred_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) deferred_due();
  });
}

void Scheduler::deferred_due() {
  auto now = Clock::now();
  while (!deferred_.empty() && deferred_.begin()->first <= now) {
    std::string id = deferred_.begin()->second;
    deferred_.erase(deferred_.begin());
    // Gone means an administrator moved or deleted it meanwhile.
    if (spool_.move(id, queue::State::deferred, queue::State::incoming) == queue::MoveResult::moved)
      enqueue(id);
  }
  arm_deferred_timer();
  pump();
}

void Scheduler::pause() {
  boost::asio::post(io_, [this] { paused_ = true; });
}

void Scheduler::pump() {
  while (!paused_ && active_ < settings_.active_limit && !ready_.empty()) {
    const std::string& next = ready_.front();
    struct stat info;
    if (::stat(spool_.file(queue::State::incoming, next).c_str(), &info) != 0) {
      known_.erase(next);  // held, deleted or already taken
      ready_.pop_front();
      continue;
    }
    // Messages in delivery are held in memory: bound their bytes too. One
    // message alone is always admitted, however large.
    std::size_t size = static_cast<std::size_t>(info.st_size);
    if (active_ > 0 && active_bytes_ + size > settings_.active_bytes_limit) break;
    std::string id = std::move(ready_.front());
    ready_.pop_front();
    if (spool_.move(id, queue::State::incoming, queue::State::active) != queue::MoveResult::moved) {
      known_.erase(id);
      continue;
    }
    ++active_;
    ++in_delivery_;
    active_bytes_ += size;
    active_sizes_[id] = size;
    boost::asio::post(pool_, [this, id] { start_attempt(id); });
  }
  update_counts();
}

void Scheduler::wake(const std::string& id) {
  boost::asio::post(io_, [this, id] {
    if (spool_.move(id, queue::State::deferred, queue::State::incoming) ==
        queue::MoveResult::moved) {
      enqueue(id);
      pump();
    }
  });
}

void Scheduler::finished(const std::string& id, const RecordedOutcome& outcome) {
  --active_;
  --in_delivery_;
  if (auto it = active_sizes_.find(id); it != active_sizes_.end()) {
    active_bytes_ -= it->second;
    active_sizes_.erase(it);
  }
  known_.erase(id);
  for (const std::string& dsn : outcome.new_messages) enqueue(dsn);
  // A report's wake may have moved it back to incoming/ before we got here.
  struct stat moved;
  if (::stat(spool_.file(queue::State::incoming, id).c_str(), &moved) == 0) enqueue(id);
  if (outcome.disposition == Disposition::deferred) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) == 0)
      deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
    deferred_timer_.cancel();
    arm_deferred_timer();
  }
  pump();
}

}  // namespace bh
