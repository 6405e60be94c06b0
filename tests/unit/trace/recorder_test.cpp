#include "trace/recorder.hpp"

#include <gtest/gtest.h>

#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::store::Backend;
using bh::test::TestStore;
using bh::trace::Kind;
using bh::trace::Recorder;
using bh::trace::RecorderSettings;
using bh::trace::TraceEvent;
using bh::trace::TraceStore;

TraceEvent event(std::string id) {
  TraceEvent e;
  e.message_id = std::move(id);
  e.kind = Kind::decision;
  e.stage = "rcpt";
  return e;
}

class TraceRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test_store.ok()) << test_store.message();
    auto opened = TraceStore::open(test_store.open());
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }
  std::int64_t events_in_store() {
    auto rows = store->database().query("SELECT COUNT(*) FROM bh_trace_events");
    EXPECT_TRUE(rows);
    return rows ? rows->front().integer(0) : -1;
  }
  RecorderSettings settings() {
    RecorderSettings s;
    s.node = "mx1";
    s.batch_events = 10;
    s.buffer_events = 1000;
    s.flush_interval = std::chrono::hours(1);  // only a full batch, flush() or stop() write
    s.now_ms = [] { return std::int64_t{1'000'000}; };
    return s;
  }

  TestStore test_store{Backend::sqlite};
  std::unique_ptr<TraceStore> store;
};

// What was recorded before the writer ran goes out in batches of
// batch_events, one transaction each.
TEST_F(TraceRecorderTest, WritesInBatches) {
  Recorder recorder(*store, settings());
  for (int i = 0; i < 25; ++i) recorder.record(event("Q" + std::to_string(i % 3)));
  recorder.start();
  recorder.flush();
  EXPECT_EQ(recorder.batches(), 3u);  // 10 + 10 + 5
  EXPECT_EQ(recorder.written(), 25u);
  EXPECT_EQ(recorder.dropped(), 0u);
  EXPECT_EQ(events_in_store(), 25);
  auto trace = store->get("Q0");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->events.size(), 9u);
  EXPECT_EQ(trace->events[0].node, "mx1");         // stamped by the recorder
  EXPECT_EQ(trace->events[0].time_ms, 1'000'000);  // likewise
}

// A full buffer drops what does not fit, counts it, and does not block.
TEST_F(TraceRecorderTest, OverflowIsDroppedAndCounted) {
  RecorderSettings s = settings();
  s.buffer_events = 5;
  Recorder recorder(*store, s);
  for (int i = 0; i < 8; ++i) recorder.record(event("Q"));
  EXPECT_EQ(recorder.dropped(), 3u);
  recorder.start();
  recorder.flush();
  EXPECT_EQ(recorder.written(), 5u);
  EXPECT_EQ(events_in_store(), 5);
  // Room again once written.
  recorder.record(event("Q"));
  recorder.flush();
  EXPECT_EQ(recorder.written(), 6u);
  EXPECT_EQ(recorder.dropped(), 3u);
}

// stop() writes what is still buffered.
TEST_F(TraceRecorderTest, StopWritesTheRest) {
  {
    Recorder recorder(*store, settings());
    recorder.start();
    for (int i = 0; i < 7; ++i) recorder.record(event("S"));
    recorder.stop();
    EXPECT_EQ(recorder.written(), 7u);
  }
  EXPECT_EQ(events_in_store(), 7);
}

// After stop() nobody writes the buffer: later events are counted as
// dropped (the metric and one warning), not kept where nobody reads them.
TEST_F(TraceRecorderTest, EventsAfterStopAreCountedAsDropped) {
  Recorder recorder(*store, settings());
  recorder.start();
  recorder.record(event("A"));
  recorder.stop();
  recorder.record(event("LATE"));
  recorder.record(event("LATE"));
  recorder.flush();  // returns at once: there is no writer
  EXPECT_EQ(recorder.written(), 1u);
  EXPECT_EQ(recorder.dropped(), 2u);
  EXPECT_EQ(events_in_store(), 1);
  recorder.stop();  // a second stop is harmless
}

// The hourly purge runs in the writer thread against the recorder's clock.
TEST_F(TraceRecorderTest, PurgesWhatIsOlderThanTheRetention) {
  constexpr std::int64_t kDay = 86'400'000;
  TraceEvent old = event("OLD");
  old.time_ms = 10 * kDay;
  TraceEvent recent = event("NEW");
  recent.time_ms = 39 * kDay;
  ASSERT_TRUE(store->write({old, recent}));
  RecorderSettings s = settings();
  s.retention_days = 30;
  s.now_ms = [] { return 41 * kDay; };  // OLD is 31 days old, NEW 2
  Recorder recorder(*store, s);
  recorder.start();  // the first purge comes with the first round of the writer
  recorder.record(event("NEW"));
  recorder.flush();
  recorder.stop();
  EXPECT_FALSE(store->get("OLD"));
  EXPECT_TRUE(store->get("NEW"));
}

}  // namespace
