#include "smtp/proto/reply_parser.hpp"

#include <cctype>

#include <fmt/format.h>

namespace bh::smtp {

std::string ServerReply::text() const {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

std::string ServerReply::summary() const {
  return enhanced.empty() ? fmt::format("{} {}", code, text())
                          : fmt::format("{} {} {}", code, enhanced, text());
}

std::optional<std::string> leading_enhanced_code(std::string_view text) {
  // class "." subject "." detail: 2/4/5, 1-3 digits, 1-3 digits.
  std::size_t i = 0;
  if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return std::nullopt;
  i = 1;
  for (int part = 0; part < 2; ++part) {
    if (i >= text.size() || text[i] != '.') return std::nullopt;
    ++i;
    std::size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 3) {
      ++i;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  if (i < text.size() && text[i] != ' ') return std::nullopt;
  return std::string(text.substr(0, i));
}

ReplyParser::Status ReplyParser::add_line(std::string_view line) {
  if (line.size() < 3 || line.size() > kMaxLineLength) return Status::malformed;
  for (int i = 0; i < 3; ++i)
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return Status::malformed;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) return Status::malformed;
  if (reply_.code != 0 && code != reply_.code) return Status::malformed;
  reply_.code = code;
  bool last = line.size() == 3 || line[3] == ' ';
  if (!last && line[3] != '-') return Status::malformed;
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  if (auto enhanced = leading_enhanced_code(text); enhanced && enhanced->front() == line[0]) {
    if (reply_.enhanced.empty()) reply_.enhanced = *enhanced;
    text.remove_prefix(std::min(text.size(), enhanced->size() + 1));
  }
  reply_.lines.emplace_back(text);
  if (reply_.lines.size() > kMaxLines) return Status::malformed;
  return last ? Status::complete : Status::incomplete;
}

ServerReply ReplyParser::take() {
  ServerReply reply = std::move(reply_);
  reply_ = ServerReply{};
  return reply;
}

}  // namespace bh::smtp
