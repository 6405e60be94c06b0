#include "util/metrics.hpp"

#include <fmt/format.h>
#include <cmath>

namespace bh::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::int64_t>(std::llround(value * 1e6)),
                        std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(total);
  }
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600};
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

namespace {

// HELP text: backslash and line feed escaped (format 0.0.4).
std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string label_text(const std::vector<std::string>& names, const Labels& values,
                       std::string_view extra_name = {}, std::string_view extra_value = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += std::string(extra_name) + "=\"" + escape_label_value(extra_value) + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

void render_histogram(std::string& out, const std::string& name,
                      const std::vector<std::string>& names, const Labels& values,
                      const Histogram& h) {
  std::vector<std::uint64_t> counts = h.cumulative();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
    out += fmt::format("{}_bucket{} {}\n", name, label_text(names, values, "le", le), counts[i]);
  }
  out += fmt::format("{}_sum{} {}\n", name, label_text(names, values), format_value(h.sum()));
  out += fmt::format("{}_count{} {}\n", name, label_text(names, values), counts.back());
}

}  // namespace

struct Registry::Entry {
  std::string name;
  std::string help;
  std::string type;  // counter, gauge, histogram
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<CounterFamily> counters;
  std::unique_ptr<GaugeFamily> gauges;
  std::unique_ptr<HistogramFamily> histograms;
  std::function<double()> read;
  std::vector<std::string> read_labels;
  std::function<std::vector<std::pair<Labels, double>>()> read_family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::entry(const std::string& name) {
  for (auto& e : entries_)
    if (e->name == name) return *e;
  entries_.push_back(std::make_unique<Entry>());
  entries_.back()->name = name;
  return *entries_.back();
}

Counter& Registry::counter(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  if (!e.counter) {
    e.help = std::move(help), e.type = "counter";
    e.counter = std::make_unique<Counter>();
  }
  return *e.counter;
}

Gauge& Registry::gauge(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  if (!e.gauge) {
    e.help = std::move(help), e.type = "gauge";
    e.gauge = std::make_unique<Gauge>();
  }
  return *e.gauge;
}

CounterFamily& Registry::counter_family(std::string name, std::string help,
                                        std::vector<std::string> labels, std::size_t max_series) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  if (!e.counters) {
    e.help = std::move(help), e.type = "counter";
    e.counters = std::make_unique<CounterFamily>(std::move(labels), max_series,
                                                 [] { return std::make_unique<Counter>(); });
  }
  return *e.counters;
}

GaugeFamily& Registry::gauge_family(std::string name, std::string help,
                                    std::vector<std::string> labels, std::size_t max_series) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  if (!e.gauges) {
    e.help = std::move(help), e.type = "gauge";
    e.gauges = std::make_unique<GaugeFamily>(std::move(labels), max_series,
                                             [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauges;
}

HistogramFamily& Registry::histogram_family(std::string name, std::string help,
                                            std::vector<std::string> labels,
                                            std::vector<double> bounds, std::size_t max_series) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  if (!e.histograms) {
    e.help = std::move(help), e.type = "histogram";
    e.histograms = std::make_unique<HistogramFamily>(
        std::move(labels), max_series,
        [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  }
  return *e.histograms;
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  e.help = std::move(help), e.type = "gauge";
  e.read = std::move(read);
}

void Registry::counter_callback(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  e.help = std::move(help), e.type = "counter";
  e.read = std::move(read);
}

void Registry::gauge_family_callback(std::string name, std::string help,
                                     std::vector<std::string> labels,
                                     std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name);
  e.help = std::move(help), e.type = "gauge";
  e.read_labels = std::move(labels);
  e.read_family = std::move(read);
}

void Registry::remove_callback(const std::string& name) {
  std::lock_guard calling(callbacks_mutex_);
  std::lock_guard lock(mutex_);
  for (auto& e : entries_)
    if (e->name == name) {
      e->read = nullptr;
      e->read_family = nullptr;
    }
}

std::string Registry::render() const {
  std::lock_guard calling(callbacks_mutex_);
  // The callbacks copied out (entries are never removed, so an index stays
  // valid), then called without mutex_.
  struct Read {
    std::size_t index;
    std::function<double()> read;
    std::function<std::vector<std::pair<Labels, double>>()> read_family;
    double value = 0;
    std::vector<std::pair<Labels, double>> values;
  };
  std::vector<Read> reads;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i]->read || entries_[i]->read_family)
        reads.push_back({i, entries_[i]->read, entries_[i]->read_family});
  }
  for (Read& r : reads) {
    if (r.read) r.value = r.read();
    if (r.read_family) r.values = r.read_family();
  }
  std::lock_guard lock(mutex_);
  std::string out;
  auto next_read = reads.begin();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    const Read* read = nullptr;
    if (next_read != reads.end() && next_read->index == i) read = &*next_read++;
    bool any = e->counter || e->gauge || e->counters || e->gauges || e->histograms || read;
    if (!any) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", e->name, escape_help(e->help), e->name,
                       e->type);
    if (e->counter) out += fmt::format("{} {}\n", e->name, e->counter->value());
    if (e->gauge) out += fmt::format("{} {}\n", e->name, e->gauge->value());
    if (read && read->read) out += fmt::format("{} {}\n", e->name, format_value(read->value));
    if (read && read->read_family)
      for (const auto& [labels, value] : read->values)
        out += fmt::format("{}{} {}\n", e->name, label_text(e->read_labels, labels),
                           format_value(value));
    if (e->counters)
      e->counters->each([&](const Labels& labels, const Counter& c) {
        out += fmt::format("{}{} {}\n", e->name, label_text(e->counters->label_names(), labels),
                           c.value());
      });
    if (e->gauges)
      e->gauges->each([&](const Labels& labels, const Gauge& g) {
        out += fmt::format("{}{} {}\n", e->name, label_text(e->gauges->label_names(), labels),
                           g.value());
      });
    if (e->histograms)
      e->histograms->each([&](const Labels& labels, const Histogram& h) {
        render_histogram(out, e->name, e->histograms->label_names(), labels, h);
      });
  }
  return out;
}

Registry& process_registry() {
  static Registry registry;
  return registry;
}

}  // namespace bh::metrics
