// Counters, gauges and histograms for /metrics, in the Prometheus text
// exposition format 0.0.4. No I/O: usable from bh_core (the SMTP session)
// as well as the I/O modules. Updates are lock-free atomics; a labelled
// family takes a mutex only to find (or make) a series, so callers on the
// hot path keep the reference they got.
//
// Label sets are bounded: a family accepts at most max_series distinct
// label values; further ones are counted in one series whose values are
// all "other", so a client cannot grow the exposition without bound.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bh::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Fixed buckets (upper bounds, ascending; +Inf is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf; the sum.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bound, then +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_micros_{0};  // the sum in millionths: an atomic integer
};

// Seconds, for latencies from a millisecond to an hour.
std::vector<double> latency_buckets();

using Labels = std::vector<std::string>;  // values, in the family's label order

template <typename Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::size_t max_series,
         std::function<std::unique_ptr<Metric>()> make)
      : label_names_(std::move(label_names)), max_series_(max_series), make_(std::move(make)) {}

  // The series for these label values (as many as the family has names).
  Metric& with(const Labels& values) {
    std::lock_guard lock(mutex_);
    auto found = series_.find(values);
    if (found != series_.end()) return *found->second;
    Labels key = values;
    if (series_.size() >= max_series_) key.assign(label_names_.size(), "other");
    auto& slot = series_[key];
    if (!slot) slot = make_();
    return *slot;
  }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn for every series, in label order.
  void each(const std::function<void(const Labels&, const Metric&)>& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, metric] : series_) fn(labels, *metric);
  }

 private:
  std::vector<std::string> label_names_;
  std::size_t max_series_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<Metric>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Metrics by name, rendered in the order they were made. Names follow
// Prometheus ([a-zA-Z_:][a-zA-Z0-9_:]*); a second call with a name returns
// the same metric.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string name, std::string help);
  Gauge& gauge(std::string name, std::string help);
  CounterFamily& counter_family(std::string name, std::string help, std::vector<std::string> labels,
                                std::size_t max_series = 200);
  GaugeFamily& gauge_family(std::string name, std::string help, std::vector<std::string> labels,
                            std::size_t max_series = 200);
  HistogramFamily& histogram_family(std::string name, std::string help,
                                    std::vector<std::string> labels, std::vector<double> bounds,
                                    std::size_t max_series = 100);
  // A gauge whose value is read at scrape time (queue sizes, buffer use).
  // Replaces an earlier callback of the same name (a restarted component).
  void gauge_callback(std::string name, std::string help, std::function<double()> read);
  // A counter kept elsewhere (an atomic of its component), read at scrape time.
  void counter_callback(std::string name, std::string help, std::function<double()> read);
  // The same for a family: read returns (label values, value) pairs.
  void gauge_family_callback(std::string name, std::string help, std::vector<std::string> labels,
                             std::function<std::vector<std::pair<Labels, double>>()> read);
  // Drops the callbacks of that name (their component is stopping); waits
  // for a render that is calling them, so none runs once this returns.
  void remove_callback(const std::string& name);

  // The text exposition format 0.0.4. Callbacks (which may list the spool or
  // lock their component) run without mutex_, so registering or counting on
  // other threads never waits for them.
  std::string render() const;

 private:
  struct Entry;
  Entry& entry(const std::string& name);
  mutable std::mutex mutex_;  // entries_ and what they hold
  // Held by render() while it calls callbacks and by remove_callback(): a
  // removed callback is never called after its component went away. Always
  // taken before mutex_, never while holding it.
  mutable std::mutex callbacks_mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// The gateway's metrics (docs/api.md lists them).
Registry& process_registry();

// Label values as the exposition writes them: backslash, quote and line
// feed escaped.
std::string escape_label_value(std::string_view value);
std::string format_value(double value);

}  // namespace bh::metrics
