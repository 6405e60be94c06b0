#include "connectors/fax/hylafax_protocol.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace bh::connectors::fax::hylafax {

namespace {

bool is_control(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number of at most max_digits digits, the whole of text.
template <typename Int>
std::optional<Int> parse_decimal(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  Int value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The reply's whole text, for searching a marker in one of its lines.
std::string_view last_line(const Reply& reply) {
  return reply.lines.empty() ? std::string_view() : std::string_view(reply.lines.back());
}

}  // namespace

std::string Reply::text() const {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

std::string Reply::summary() const {
  return fmt::format("{} {}", code, text());
}

LineSplitter::Status LineSplitter::next(std::string& line) {
  std::size_t end = buffer_.find('\n');
  if (end == std::string::npos) {
    // Without its LF a line may still be growing, up to the limit.
    if (buffer_.size() > kMaxLineLength + 1) return Status::malformed;
    return Status::need_more;
  }
  if (end == 0 || buffer_[end - 1] != '\r') return Status::malformed;  // bare LF
  if (end - 1 > kMaxLineLength) return Status::malformed;
  std::string_view content(buffer_.data(), end - 1);
  for (unsigned char c : content)
    if (is_control(c)) return Status::malformed;  // also a bare CR inside the line
  line.assign(content);
  buffer_.erase(0, end + 1);
  return Status::line;
}

ReplyParser::Status ReplyParser::add_line(std::string_view line) {
  for (unsigned char c : line)
    if (is_control(c)) return Status::malformed;
  bool coded = line.size() >= 3 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]) &&
               (line.size() == 3 || line[3] == ' ' || line[3] == '-');
  if (!started_) {
    if (!coded) return Status::malformed;
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 100 || code > 599) return Status::malformed;
    reply_.code = code;
    started_ = true;
    bool last = line.size() == 3 || line[3] == ' ';
    reply_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    return last ? Status::complete : Status::incomplete;
  }
  // Inside a multi-line reply (RFC 959 4.2): any line, until "CODE " ends it.
  if (reply_.lines.size() >= kMaxLines) return Status::malformed;
  bool ends = coded && (line.size() == 3 || line[3] == ' ') &&
              line.substr(0, 3) == fmt::format("{:03}", reply_.code);
  reply_.lines.emplace_back(ends ? (line.size() > 4 ? line.substr(4) : std::string_view()) : line);
  return ends ? Status::complete : Status::incomplete;
}

Reply ReplyParser::take() {
  Reply reply = std::move(reply_);
  reply_ = Reply{};
  started_ = false;
  return reply;
}

bool safe_in_command(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return is_control(static_cast<unsigned char>(c)); });
}

std::optional<std::string> command_line(std::string_view verb, std::string_view argument) {
  if (verb.empty() || !safe_in_command(verb) || !safe_in_command(argument)) return std::nullopt;
  if (argument.empty()) return fmt::format("{}\r\n", verb);
  return fmt::format("{} {}\r\n", verb, argument);
}

std::optional<std::string> quote_string(std::string_view value) {
  if (!safe_in_command(value)) return std::nullopt;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::optional<std::string> jparm_string(std::string_view name, std::string_view value) {
  auto quoted = quote_string(value);
  if (!quoted || !safe_in_command(name)) return std::nullopt;
  return fmt::format("JPARM {} {}\r\n", name, *quoted);
}

std::string jparm_number(std::string_view name, long long value) {
  return fmt::format("JPARM {} {}\r\n", name, value);
}

std::string lasttime_value(std::chrono::seconds after_submission) {
  constexpr long long kMax = 99LL * 24 * 60 + 23 * 60 + 59;
  long long minutes = (after_submission.count() + 59) / 60;
  minutes = std::clamp(minutes, 1LL, kMax);
  return fmt::format("{:02}{:02}{:02}", minutes / (24 * 60), (minutes / 60) % 24, minutes % 60);
}

Result<std::uint16_t> parse_pasv(const Reply& reply, std::string_view control_peer) {
  if (reply.code != 227) return Error{"HylaFAX PASV: unexpected reply " + reply.summary()};
  std::string_view text = last_line(reply);
  std::size_t open = text.find('(');
  std::size_t close = text.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos)
    return Error{"HylaFAX PASV: no address in " + reply.summary()};
  std::string_view inside = text.substr(open + 1, close - open - 1);
  int numbers[6];
  for (int i = 0; i < 6; ++i) {
    std::size_t comma = inside.find(',');
    std::string_view part = i < 5 ? inside.substr(0, comma) : inside;
    if ((i < 5 && comma == std::string_view::npos) || (i == 5 && part.find(',') != part.npos))
      return Error{"HylaFAX PASV: malformed address in " + reply.summary()};
    auto value = parse_decimal<int>(part, 3);
    if (!value || *value > 255)
      return Error{"HylaFAX PASV: malformed address in " + reply.summary()};
    numbers[i] = *value;
    if (i < 5) inside.remove_prefix(comma + 1);
  }
  std::string address = fmt::format("{}.{}.{}.{}", numbers[0], numbers[1], numbers[2], numbers[3]);
  if (address != control_peer)
    return Error{
        fmt::format("HylaFAX PASV: data address {} is not the server's {}", address, control_peer)};
  int port = numbers[4] * 256 + numbers[5];
  if (port == 0) return Error{"HylaFAX PASV: port 0 in " + reply.summary()};
  return static_cast<std::uint16_t>(port);
}

Result<std::uint16_t> parse_epsv(const Reply& reply) {
  if (reply.code != 229) return Error{"HylaFAX EPSV: unexpected reply " + reply.summary()};
  std::string_view text = last_line(reply);
  std::size_t open = text.find("(|||");
  if (open == std::string_view::npos) return Error{"HylaFAX EPSV: no port in " + reply.summary()};
  std::string_view rest = text.substr(open + 4);
  std::size_t close = rest.find("|)");
  if (close == std::string_view::npos) return Error{"HylaFAX EPSV: no port in " + reply.summary()};
  auto port = parse_decimal<unsigned>(rest.substr(0, close), 5);
  if (!port || *port == 0 || *port > 65535)
    return Error{"HylaFAX EPSV: malformed port in " + reply.summary()};
  return static_cast<std::uint16_t>(*port);
}

std::optional<std::string> parse_file_name(const Reply& reply) {
  constexpr std::string_view kMarker = "FILE: ";
  for (const auto& line : reply.lines) {
    std::size_t at = line.find(kMarker);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(at + kMarker.size());
    std::size_t end = rest.find_first_of(" \t)");
    std::string_view name = rest.substr(0, end);
    if (name.size() < 2 || name.size() > 255 || name.front() != '/') return std::nullopt;
    bool clean = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
             c == '_' || c == '/' || c == '-';
    });
    if (!clean || name.find("..") != std::string_view::npos) return std::nullopt;
    return std::string(name);
  }
  return std::nullopt;
}

std::optional<std::string> parse_job_id(const Reply& reply) {
  constexpr std::string_view kMarker = "jobid: ";
  for (const auto& line : reply.lines) {
    std::size_t at = line.find(kMarker);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(at + kMarker.size());
    std::size_t end = 0;
    while (end < rest.size() && is_digit(rest[end])) ++end;
    std::string_view id = rest.substr(0, end);
    if (!valid_job_id(id)) return std::nullopt;
    return std::string(id);
  }
  return std::nullopt;
}

bool valid_job_id(std::string_view id) {
  return !id.empty() && id.size() <= 9 && std::all_of(id.begin(), id.end(), is_digit);
}

std::optional<std::string> parse_parameter_value(const Reply& reply) {
  if (reply.code != 213 || reply.lines.size() != 1) return std::nullopt;
  return reply.lines.front();
}

std::optional<JobState> job_state_from_letter(char letter) {
  switch (letter) {
    case 'T':
      return JobState::suspended;
    case 'P':
      return JobState::pending;
    case 'S':
      return JobState::sleeping;
    case 'B':
      return JobState::blocked;
    case 'W':
      return JobState::ready;
    case 'R':
      return JobState::active;
    case 'D':
      return JobState::done;
    case 'F':
      return JobState::failed;
    default:
      return std::nullopt;
  }
}

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::suspended:
      return "SUSPENDED";
    case JobState::pending:
      return "PENDING";
    case JobState::sleeping:
      return "SLEEPING";
    case JobState::blocked:
      return "BLOCKED";
    case JobState::ready:
      return "READY";
    case JobState::active:
      return "ACTIVE";
    case JobState::done:
      return "DONE";
    case JobState::failed:
      return "FAILED";
  }
  return "?";
}

namespace {

// "1 F bridgehead 0 1 tag with spaces" in kJobFormat.
std::optional<JobListing> parse_job_line(std::string_view line) {
  std::string_view fields[5];
  for (auto& field : fields) {
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    field = line.substr(0, space);
    line.remove_prefix(space + 1);
  }
  JobListing job;
  if (!valid_job_id(fields[0]) || fields[1].size() != 1 || fields[2].empty()) return std::nullopt;
  auto state = job_state_from_letter(fields[1][0]);
  auto sent = parse_decimal<int>(fields[3], 6);
  auto total = parse_decimal<int>(fields[4], 6);
  if (!state || !sent || !total) return std::nullopt;
  job.id = fields[0];
  job.state = *state;
  job.owner = fields[2];
  job.pages_sent = *sent;
  job.pages_total = *total;
  job.tag = line;
  return job;
}

}  // namespace

std::optional<std::string> queue_file_value(std::string_view qfile, std::string_view tag) {
  while (!qfile.empty()) {
    std::size_t end = qfile.find('\n');
    std::string_view line = qfile.substr(0, end);
    qfile.remove_prefix(end == std::string_view::npos ? qfile.size() : end + 1);
    if (line.size() > tag.size() && line.substr(0, tag.size()) == tag && line[tag.size()] == ':')
      return std::string(line.substr(tag.size() + 1));
  }
  return std::nullopt;
}

JobList parse_job_list(std::string_view data) {
  JobList list;
  while (!data.empty()) {
    std::size_t end = data.find("\r\n");
    std::string_view line = data.substr(0, end);
    data.remove_prefix(end == std::string_view::npos ? data.size() : end + 2);
    if (line.empty()) continue;
    auto job = safe_in_command(line) ? parse_job_line(line) : std::nullopt;
    if (job)
      list.jobs.push_back(std::move(*job));
    else
      ++list.skipped;
  }
  return list;
}

}  // namespace bh::connectors::fax::hylafax
