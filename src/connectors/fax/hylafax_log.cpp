#include "connectors/fax/hylafax_log.hpp"

#include <algorithm>

namespace bh::connectors::fax::hylafax {

namespace {

constexpr std::string_view kUnspecified = "<UNSPECIFIED>";  // faxd/FaxSend.c++'s placeholder
constexpr long kDayHundredths = 24L * 60 * 60 * 100;
// The longest pause between two traced lines of one call. A clock change
// (summer time: 1 h, 30 min on Lord Howe Island) shows as a step of at
// least 30 min, or backwards; no T.30 phase is quiet that long (one page
// at 2400 bit/s would have to be some 450 KB).
constexpr long kMaxLineGapHundredths = 25L * 60 * 100;

// A session log line's time stamp: "Dec 02 16:41:07.23". faxd sets
// LC_TIME from its environment, so the month is the locale's abbreviation
// ("Dez", "déc."): compared, never interpreted.
struct Stamp {
  std::string_view month;
  int day = 0;          // 1-31
  long hundredths = 0;  // since midnight
};

struct Line {
  Stamp stamp;
  std::string_view text;  // after "]: "
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The two digits at text[at], if they are.
std::optional<int> two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size() || !is_digit(text[at]) || !is_digit(text[at + 1])) return std::nullopt;
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

// "Mmm dd HH:MM:SS.cc: [ pid]: text" (FaxMachineLog::vlog); nullopt for
// anything else (a line of another format is skipped, never guessed at).
std::optional<Line> parse_line(std::string_view line) {
  constexpr std::size_t kClock = 14;  // "dd HH:MM:SS.cc"
  std::size_t open = line.find(": [");
  if (open == std::string_view::npos || open < kClock + 2) return std::nullopt;
  std::string_view month = line.substr(0, open - kClock - 1);
  std::string_view clock = line.substr(open - kClock, kClock);
  bool month_is_a_word = std::none_of(month.begin(), month.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
  if (line[open - kClock - 1] != ' ' || !month_is_a_word) return std::nullopt;
  auto day = two_digits(clock, 0);
  auto hours = two_digits(clock, 3);
  auto minutes = two_digits(clock, 6);
  auto seconds = two_digits(clock, 9);
  auto hundredths = two_digits(clock, 12);
  if (!day || !hours || !minutes || !seconds || !hundredths) return std::nullopt;
  if (clock[2] != ' ' || clock[5] != ':' || clock[8] != ':' || clock[11] != '.')
    return std::nullopt;
  if (*day < 1 || *day > 31 || *hours > 23 || *minutes > 59 || *seconds > 60) return std::nullopt;
  std::size_t close = line.find("]: ", open + 3);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view pid = line.substr(open + 3, close - open - 3);
  while (!pid.empty() && pid.front() == ' ') pid.remove_prefix(1);
  if (pid.empty() || !std::all_of(pid.begin(), pid.end(), is_digit)) return std::nullopt;
  Line parsed;
  parsed.stamp.month = month;
  parsed.stamp.day = *day;
  parsed.stamp.hundredths = ((*hours * 60L + *minutes) * 60 + *seconds) * 100 + *hundredths;
  parsed.text = line.substr(close + 3);
  return parsed;
}

// Whether b is the calendar day after a. Without the month's number (or
// the year), a month's first day follows any 28th to 31st of another.
bool next_day(const Stamp& a, const Stamp& b) {
  if (a.month == b.month) return b.day == a.day + 1;
  return b.day == 1 && a.day >= 28;
}

// end - start in hundredths, when it is less than a day.
std::optional<long> span(const Stamp& start, const Stamp& end) {
  long difference = end.hundredths - start.hundredths;
  if (start.month == end.month && start.day == end.day) {
    if (difference < 0) return std::nullopt;
    return difference;
  }
  if (next_day(start, end) && difference < 0) return difference + kDayHundredths;
  return std::nullopt;
}

// The text between the first and the last double quote.
std::optional<std::string_view> quoted(std::string_view text) {
  std::size_t open = text.find('"');
  std::size_t close = text.rfind('"');
  if (open == std::string_view::npos || close == open) return std::nullopt;
  return text.substr(open + 1, close - open - 1);
}

}  // namespace

std::string clean_csid(std::string_view raw) {
  std::string out;
  for (char c : raw)
    if (c >= 0x20 && c <= 0x7e) out += c;
  auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  out = out.substr(first, out.find_last_not_of(' ') - first + 1);
  if (out == kUnspecified) return "";
  if (out.size() > kMaxCsidLength) {
    out.resize(kMaxCsidLength);
    out.erase(out.find_last_not_of(' ') + 1);
  }
  return out;
}

bool valid_commid(std::string_view commid) {
  return !commid.empty() && commid.size() <= 20 &&
         std::all_of(commid.begin(), commid.end(), is_digit);
}

SessionFacts parse_session_log(std::string_view log) {
  constexpr std::string_view kCsi = "REMOTE CSI ";
  SessionFacts facts;
  std::optional<Stamp> dialled;
  std::optional<Stamp> ended;
  std::optional<Stamp> previous;  // from the DIAL line on
  bool clock_jumped = false;
  while (!log.empty()) {
    std::size_t end = log.find('\n');
    std::string_view raw = log.substr(0, end);
    log.remove_prefix(end == std::string_view::npos ? log.size() : end + 1);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    auto line = parse_line(raw);
    if (!line) continue;
    if (!dialled && line->text.rfind("DIAL ", 0) == 0) dialled = line->stamp;
    if (dialled) {
      if (previous) {
        auto gap = span(*previous, line->stamp);
        if (!gap || *gap > kMaxLineGapHundredths) clock_jumped = true;
      }
      previous = line->stamp;
    }
    if (line->text == "SESSION END") ended = line->stamp;
    if (line->text.rfind(kCsi, 0) == 0)
      if (auto csid = quoted(line->text.substr(kCsi.size()))) facts.remote_csid = clean_csid(*csid);
  }
  if (dialled && ended && !clock_jumped)
    if (auto hundredths = span(*dialled, *ended))
      facts.duration = std::chrono::seconds(std::max(1L, (*hundredths + 50) / 100));
  return facts;
}

}  // namespace bh::connectors::fax::hylafax
