// [trace] (docs/configuration.md): the message trace.
#include "server/config_reader.hpp"

namespace bh::config_detail {

void read_trace(TableReader& r, trace::TraceSettings& trace) {
  r.boolean("enabled", trace.enabled);
  r.number("retention_days", trace.retention_days, 1, 3650);
  r.number("buffer_events", trace.buffer_events, 1000, 10'000'000);
  r.number("batch_events", trace.batch_events, 1, 100'000);
  r.number("flush_ms", trace.flush_ms, 10, 60'000);
}

}  // namespace bh::config_detail
