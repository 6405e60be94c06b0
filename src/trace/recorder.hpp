// The Sink the gateway records into: record() only appends to a bounded
// buffer under a mutex (the SMTP I/O threads call it); the recorder's own
// thread writes the buffer to the TraceStore in batches (every flush_ms or
// batch_events, one transaction each) and purges what is older than the
// retention, hourly. A full buffer drops events: counted, and logged by the
// writer thread, never silently and never by blocking the caller. Events
// recorded before start() wait in the buffer; those recorded after stop()
// have no writer any more: they are dropped, counted and warned about once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trace/event.hpp"
#include "trace/trace_settings.hpp"
#include "trace/trace_store.hpp"

namespace bh::trace {

struct RecorderSettings {
  std::string node;  // stamped on events without one
  std::size_t buffer_events = 100000;
  std::size_t batch_events = 1000;
  std::chrono::milliseconds flush_interval{200};
  std::int64_t retention_days = 30;
  std::chrono::milliseconds purge_interval{std::chrono::hours(1)};
  std::function<std::int64_t()> now_ms;  // unix milliseconds; null: the system clock
};

RecorderSettings recorder_settings(const TraceSettings& trace, std::string node);

class Recorder : public Sink {
 public:
  Recorder(TraceStore& store, RecorderSettings settings);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void start();
  // Writes what is buffered, then ends the thread.
  void stop();

  void record(TraceEvent event) override;
  std::int64_t now_ms() const override;

  // Waits until everything recorded before the call is written (or failed).
  void flush();

  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t write_failures() const { return write_failures_.load(); }
  std::uint64_t batches() const { return batches_.load(); }

 private:
  void run();
  void write_batch(std::vector<TraceEvent>& batch);
  void purge_if_due();

  TraceStore& store_;
  RecorderSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_;        // the writer: a full batch, a flush or stop
  std::condition_variable written_cv_;  // flush(): the writer caught up
  std::vector<TraceEvent> buffer_;
  std::uint64_t recorded_ = 0;  // events taken into buffer_ (under mutex_)
  std::uint64_t handled_ = 0;   // of those, written or failed (under mutex_)
  bool flush_requested_ = false;
  bool stopping_ = false;
  // Under mutex_: whether the writer thread runs, and whether stop() ended it
  // (record() then drops instead of buffering what nobody would write).
  bool running_ = false;
  bool stopped_ = false;
  bool warned_after_stop_ = false;
  std::thread thread_;              // started and joined by start()/stop() only
  std::int64_t next_purge_ms_ = 0;  // the writer thread's
  std::uint64_t dropped_logged_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> write_failures_{0};
  std::atomic<std::uint64_t> batches_{0};
};

}  // namespace bh::trace
