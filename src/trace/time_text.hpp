// Times of the trace as text: RFC 3339 in UTC with milliseconds for
// output, and what `since=` / `--since` accept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bh::trace {

// "2026-12-01T23:59:01.123Z"
std::string format_time_ms(std::int64_t unix_ms);

// Unix seconds ("1764633541"), or RFC 3339 "2026-12-01T23:59:01Z",
// "2026-12-01T23:59:01.5Z", "2026-12-01T23:59:01+01:00", or a date
// "2026-12-01" (midnight UTC). Returns unix milliseconds; nullopt for
// anything else.
std::optional<std::int64_t> parse_time(std::string_view text);

}  // namespace bh::trace
