#include "util/metrics.hpp"

#include <gtest/gtest.h>

namespace {

using bh::metrics::Registry;

TEST(Metrics, CountersAndGaugesRenderWithHelpAndType) {
  Registry registry;
  registry.counter("bh_things_total", "Things seen").inc(3);
  registry.gauge("bh_level", "A level\nwith a \\ in its help").set(-2);
  EXPECT_EQ(registry.render(),
            "# HELP bh_things_total Things seen\n"
            "# TYPE bh_things_total counter\n"
            "bh_things_total 3\n"
            "# HELP bh_level A level\\nwith a \\\\ in its help\n"
            "# TYPE bh_level gauge\n"
            "bh_level -2\n");
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry registry;
  auto& family = registry.counter_family("bh_refusals_total", "Refusals", {"stage", "status"});
  family.with({"rcpt", "5.7.1"}).inc();
  family.with({"rcpt", "5.7.1"}).inc();
  family.with({"a\"b\\c\nd", "x"}).inc();
  std::string text = registry.render();
  EXPECT_NE(text.find("bh_refusals_total{stage=\"rcpt\",status=\"5.7.1\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("bh_refusals_total{stage=\"a\\\"b\\\\c\\nd\",status=\"x\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, LabelSetsAreBounded) {
  Registry registry;
  auto& family = registry.counter_family("bh_by_peer_total", "By peer", {"peer"}, 2);
  family.with({"a"}).inc();
  family.with({"b"}).inc();
  family.with({"c"}).inc();
  family.with({"d"}).inc(5);
  family.with({"a"}).inc();
  std::string text = registry.render();
  EXPECT_NE(text.find("bh_by_peer_total{peer=\"a\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("bh_by_peer_total{peer=\"other\"} 6\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("peer=\"c\""), std::string::npos) << text;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry registry;
  auto& family =
      registry.histogram_family("bh_latency_seconds", "Latency", {"connector"}, {0.1, 1, 10});
  auto& h = family.with({"out"});
  h.observe(0.05);
  h.observe(0.1);  // on the bound: in its bucket (le)
  h.observe(5);
  h.observe(100);
  std::string text = registry.render();
  EXPECT_NE(text.find("# TYPE bh_latency_seconds histogram\n"
                      "bh_latency_seconds_bucket{connector=\"out\",le=\"0.1\"} 2\n"
                      "bh_latency_seconds_bucket{connector=\"out\",le=\"1\"} 2\n"
                      "bh_latency_seconds_bucket{connector=\"out\",le=\"10\"} 3\n"
                      "bh_latency_seconds_bucket{connector=\"out\",le=\"+Inf\"} 4\n"
                      "bh_latency_seconds_sum{connector=\"out\"} 105.15\n"
                      "bh_latency_seconds_count{connector=\"out\"} 4\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, CallbacksAreReadAtScrapeTime) {
  Registry registry;
  int queued = 1;
  registry.gauge_family_callback("bh_queue", "Queue", {"state"}, [&] {
    return std::vector<std::pair<bh::metrics::Labels, double>>{{{"incoming"}, double(queued)}};
  });
  registry.counter_callback("bh_written_total", "Written", [] { return 7.0; });
  EXPECT_NE(registry.render().find("bh_queue{state=\"incoming\"} 1\n"), std::string::npos);
  queued = 4;
  std::string text = registry.render();
  EXPECT_NE(text.find("bh_queue{state=\"incoming\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE bh_written_total counter\nbh_written_total 7\n"), std::string::npos)
      << text;
  registry.remove_callback("bh_queue");
  EXPECT_EQ(registry.render().find("bh_queue"), std::string::npos);
}

// Callbacks run without the registry's lock: one that touches the registry
// (as a component counting while it is asked for its size would) does not
// deadlock, and what it counted shows in the same scrape.
TEST(Metrics, CallbacksRunWithoutTheRegistryLock) {
  Registry registry;
  registry.gauge_callback("bh_spool", "Spool", [&registry] {
    registry.counter("bh_listed_total", "Listings").inc();
    return 2.0;
  });
  std::string first = registry.render();
  EXPECT_NE(first.find("bh_spool 2\n"), std::string::npos) << first;
  EXPECT_NE(first.find("bh_listed_total 1\n"), std::string::npos) << first;
  std::string second = registry.render();
  EXPECT_NE(second.find("bh_listed_total 2\n"), std::string::npos) << second;
  EXPECT_EQ(registry.counter("bh_listed_total", "Listings").value(), 2u);
}

TEST(Metrics, SameNameIsTheSameMetric) {
  Registry registry;
  registry.counter("bh_x_total", "X").inc();
  registry.counter("bh_x_total", "X").inc();
  EXPECT_EQ(registry.counter("bh_x_total", "X").value(), 2u);
}

}  // namespace
