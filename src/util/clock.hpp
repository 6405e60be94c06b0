// The wall clock as the stores, logs and reports write it. Header-only.
#pragma once

#include <chrono>
#include <cstdint>

namespace bh {

// Seconds since the Unix epoch (system_clock, so it follows clock changes).
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bh
