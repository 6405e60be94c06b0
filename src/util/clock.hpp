// The wall clock as the stores, logs and reports write it. Header-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace bh {

// Seconds since the Unix epoch (system_clock, so it follows clock changes).
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// unix_seconds in UTC through strftime's format ("%Y-%m-%d %H:%M UTC").
inline std::string utc_format(std::int64_t unix_seconds, const char* format) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[96];
  const std::size_t n = std::strftime(buffer, sizeof buffer, format, &utc);
  return std::string(buffer, n);
}

}  // namespace bh
