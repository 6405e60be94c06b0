#include "trace/recorder.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace bh::trace {

RecorderSettings recorder_settings(const TraceSettings& trace, std::string node) {
  RecorderSettings s;
  s.node = std::move(node);
  s.buffer_events = static_cast<std::size_t>(trace.buffer_events);
  s.batch_events = static_cast<std::size_t>(trace.batch_events);
  s.flush_interval = std::chrono::milliseconds(trace.flush_ms);
  s.retention_days = trace.retention_days;
  return s;
}

Recorder::Recorder(TraceStore& store, RecorderSettings settings)
    : store_(store), settings_(std::move(settings)) {
  settings_.batch_events = std::max<std::size_t>(settings_.batch_events, 1);
  buffer_.reserve(settings_.batch_events);
}

Recorder::~Recorder() {
  stop();
}

std::int64_t Recorder::now_ms() const {
  if (settings_.now_ms) return settings_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Recorder::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  stopped_ = false;
  stopping_ = false;
  // The first purge soon after start: a node that was down a while catches up.
  next_purge_ms_ = 0;
  // Started under mutex_ (run() waits for it), so stop() never sees running_
  // without the thread.
  thread_ = std::thread([this] { run(); });
}

void Recorder::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  stopped_ = true;
  written_cv_.notify_all();
}

void Recorder::record(TraceEvent event) {
  if (event.time_ms == 0) event.time_ms = now_ms();
  if (event.node.empty()) event.node = settings_.node;
  bool full_batch = false;
  bool warn_after_stop = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      warn_after_stop = !warned_after_stop_;
      warned_after_stop_ = true;
    } else if (buffer_.size() >= settings_.buffer_events) {
      dropped_.fetch_add(1, std::memory_order_relaxed);  // the writer logs it
      return;
    } else {
      buffer_.push_back(std::move(event));
      ++recorded_;
      full_batch = buffer_.size() == settings_.batch_events;
    }
  }
  if (warn_after_stop)
    log::Line("trace_dropped")
        .kv("events", 1ULL)
        .kv("reason", "recorded after the trace writer stopped: this and later ones are dropped")
        .write(log::Level::warn);
  if (full_batch) wake_.notify_one();
}

void Recorder::flush() {
  std::unique_lock lock(mutex_);
  std::uint64_t target = recorded_;
  flush_requested_ = true;
  wake_.notify_one();
  written_cv_.wait(lock, [&] { return handled_ >= target || !running_; });
}

void Recorder::run() {
  std::vector<TraceEvent> batch;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, settings_.flush_interval, [&] {
      return stopping_ || flush_requested_ || buffer_.size() >= settings_.batch_events;
    });
    flush_requested_ = false;
    bool stop_now = stopping_;
    // Everything buffered, in batches of at most batch_events.
    while (!buffer_.empty()) {
      std::size_t take = std::min(buffer_.size(), settings_.batch_events);
      if (take == buffer_.size()) {
        batch.swap(buffer_);
        buffer_.reserve(settings_.batch_events);
      } else {
        batch.assign(std::make_move_iterator(buffer_.begin()),
                     std::make_move_iterator(buffer_.begin() + static_cast<std::ptrdiff_t>(take)));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(take));
      }
      lock.unlock();
      write_batch(batch);
      lock.lock();
      handled_ += take;
    }
    written_cv_.notify_all();
    lock.unlock();
    if (std::uint64_t dropped = dropped_.load(); dropped != dropped_logged_) {
      log::Line("trace_dropped")
          .kv("events", static_cast<unsigned long long>(dropped - dropped_logged_))
          .kv("total", static_cast<unsigned long long>(dropped))
          .kv("reason", "the trace buffer was full (trace.buffer_events): the store is too slow")
          .write(log::Level::warn);
      dropped_logged_ = dropped;
    }
    if (!stop_now) purge_if_due();
    lock.lock();
    if (stop_now) break;
  }
  written_cv_.notify_all();
}

void Recorder::write_batch(std::vector<TraceEvent>& batch) {
  Status written = store_.write(batch);
  batches_.fetch_add(1, std::memory_order_relaxed);
  if (written) {
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
  } else {
    write_failures_.fetch_add(batch.size(), std::memory_order_relaxed);
    log::Line("trace_error")
        .kv("events", static_cast<unsigned long long>(batch.size()))
        .kv("store", store_.database().describe())
        .kv("reason", written.error().message)
        .write(log::Level::error);
  }
  batch.clear();
}

void Recorder::purge_if_due() {
  std::int64_t now = now_ms();
  if (now < next_purge_ms_ || settings_.retention_days <= 0) return;
  next_purge_ms_ = now + settings_.purge_interval.count();
  std::int64_t before = now - settings_.retention_days * 86'400'000;
  auto purged = store_.purge(before);
  if (!purged) {
    log::Line("trace_error").kv("reason", purged.error().message).write(log::Level::error);
  } else if (*purged > 0) {
    log::Line("trace_purged")
        .kv("messages", static_cast<long long>(*purged))
        .kv("retention_days", static_cast<long long>(settings_.retention_days))
        .write();
  }
}

}  // namespace bh::trace
