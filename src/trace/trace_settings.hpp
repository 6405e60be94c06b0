// [trace]: the message trace (docs/api.md, /v1/messages).
#pragma once

#include <cstdint>

namespace bh::trace {

struct TraceSettings {
  bool enabled = true;
  std::int64_t retention_days = 30;  // events and messages older than this are purged (hourly)
  // Events waiting for the writer; beyond this they are dropped (counted
  // and logged), so a slow store never holds up an SMTP session.
  std::int64_t buffer_events = 100000;
  std::int64_t batch_events = 20000;  // written in one transaction
  std::int64_t flush_ms = 1000;       // at the latest after this long (bench/trace-overhead)
};

}  // namespace bh::trace
