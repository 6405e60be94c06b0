// The gauges /metrics reads at scrape time: queue sizes by state and the
// trace recorder's counters.
#include <utility>
#include <vector>

#include "queue/spool.hpp"
#include "scheduler/scheduler.hpp"
#include "server/gateway_internal.hpp"
#include "trace/recorder.hpp"
#include "util/metrics.hpp"

namespace bh::gateway_detail {

// Gauges /metrics reads at scrape time: queue sizes by state from the
// scheduler's own counts (hold/ is listed: the scheduler does not keep
// held messages), and the trace recorder's counters.
GatewayGauges::GatewayGauges(const Scheduler& scheduler, const queue::Spool& spool,
                             const trace::Recorder* recorder) {
  metrics::Registry& registry = metrics::process_registry();
  registry.gauge_family_callback(
      "bridgehead_queue_messages", "Messages in the queue by state", {"state"},
      [&scheduler, &spool] {
        QueueCounts counts = scheduler.counts();
        return std::vector<std::pair<metrics::Labels, double>>{
            {{"incoming"}, static_cast<double>(counts.incoming)},
            {{"active"}, static_cast<double>(counts.active)},
            {{"deferred"}, static_cast<double>(counts.deferred)},
            {{"hold"}, static_cast<double>(spool.list(queue::State::hold).size())}};
      });
  if (recorder == nullptr) return;
  registry.counter_callback("bridgehead_trace_events_written_total",
                            "Trace events written to the store",
                            [recorder] { return static_cast<double>(recorder->written()); });
  registry.counter_callback(
      "bridgehead_trace_events_dropped_total",
      "Trace events dropped because the trace buffer was full, or its write failed",
      [recorder] { return static_cast<double>(recorder->dropped() + recorder->write_failures()); });
}

GatewayGauges::~GatewayGauges() {
  metrics::Registry& registry = metrics::process_registry();
  for (const char* name : {"bridgehead_queue_messages", "bridgehead_trace_events_written_total",
                           "bridgehead_trace_events_dropped_total"})
    registry.remove_callback(name);
}

}  // namespace bh::gateway_detail
