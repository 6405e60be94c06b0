#include "trace/time_text.hpp"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace bh::trace {
namespace {

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string format_time_ms(std::int64_t unix_ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)));
  year_month_day ymd(day);
  std::int64_t in_day = unix_ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     in_day / 3'600'000, in_day / 60'000 % 60, in_day / 1000 % 60, in_day % 1000);
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  using namespace std::chrono;
  if (text.empty() || text.size() > 40) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || seconds > 253402300799)
      return std::nullopt;
    return seconds * 1000;
  }
  int y, mo, d;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d))
    return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  if (text.size() == 10) return ms;
  int h, mi, s;
  if ((text[10] != 'T' && text[10] != 't') || !digits(text, 11, 2, h) || text.size() < 19 ||
      text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s) ||
      h > 23 || mi > 59 || s > 60)
    return std::nullopt;
  ms += ((h * 60 + mi) * 60 + s) * 1000LL;
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    std::size_t begin = ++at;
    int fraction = 0, scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      fraction += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == begin) return std::nullopt;
    ms += fraction;
  }
  std::string_view zone = text.substr(at);
  if (zone == "Z" || zone == "z") return ms;
  int zh, zm;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !digits(zone, 1, 2, zh) ||
      zone[3] != ':' || !digits(zone, 4, 2, zm) || zh > 23 || zm > 59)
    return std::nullopt;
  std::int64_t offset = (zh * 60 + zm) * 60'000LL;
  return zone[0] == '+' ? ms - offset : ms + offset;
}

}  // namespace bh::trace
