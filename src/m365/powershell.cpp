#include "m365/powershell.hpp"

#include "util/printable.hpp"

namespace bh::m365 {
namespace {

bool is_single_quote(char32_t c) {
  return c == U'\'' || (c >= 0x2018 && c <= 0x201B);
}

}  // namespace

std::string unquotable(std::string_view value) {
  for (std::size_t pos = 0; pos < value.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(value, pos, &c);
    if (length == 0) return "is not valid UTF-8";
    if (is_unsafe_code_point(c)) return "holds a control character";
    pos += length;
  }
  return "";
}

std::optional<std::string> quote(std::string_view value) {
  if (!unquotable(value).empty()) return std::nullopt;
  std::string out = "'";
  for (std::size_t pos = 0; pos < value.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(value, pos, &c);
    std::string_view character = value.substr(pos, length);
    out.append(character);
    if (is_single_quote(c)) out.append(character);  // '' is one quote inside '...'
    pos += length;
  }
  return out + "'";
}

std::optional<std::string> quote_list(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& value : values) {
    auto quoted = quote(value);
    if (!quoted) return std::nullopt;
    out += (out.empty() ? "" : ",") + *quoted;
  }
  return out;
}

std::string comment(const std::vector<std::string>& paragraphs) {
  constexpr std::size_t kWidth = 100;
  std::string out;
  for (const std::string& paragraph : paragraphs) {
    std::string text = printable(paragraph);
    std::string line = "#";
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t space = text.find(' ', pos);
      std::string word = text.substr(pos, space == std::string::npos ? space : space - pos);
      pos = space == std::string::npos ? text.size() : space + 1;
      if (word.empty()) continue;
      if (line.size() > 1 && line.size() + 1 + word.size() > kWidth) {
        out += line + "\n";
        line = "#";
      }
      line += " " + word;
    }
    out += line + "\n";
  }
  return out;
}

std::string render(const Command& command) {
  std::string out = comment(command.comment) + command.cmdlet;
  for (const auto& [name, value] : command.parameters) out += " `\n  -" + name + " " + value;
  return out + "\n";
}

}  // namespace bh::m365
