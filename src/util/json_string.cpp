#include "util/json_string.hpp"

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh {
namespace {

void append_u_escape(std::string& out, unsigned value) {
  fmt::format_to(std::back_inserter(out), "\\u{:04x}", value);
}

void append_escaped_code_point(std::string& out, char32_t c) {
  if (c < 0x10000) return append_u_escape(out, static_cast<unsigned>(c));
  char32_t v = c - 0x10000;  // outside the BMP: a surrogate pair
  append_u_escape(out, 0xD800 + static_cast<unsigned>(v >> 10));
  append_u_escape(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
}

}  // namespace

void append_json_string(std::string& out, std::string_view text, NotUtf8 bytes) {
  out.push_back('"');
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0) {  // JSON cannot carry the byte itself
      if (bytes == NotUtf8::replacement) {
        out += "\\ufffd";
      } else {
        out += '\\';
        append_hex_escape(out, static_cast<unsigned char>(text[pos]));
      }
      ++pos;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (is_unsafe_code_point(c))
          append_escaped_code_point(out, c);
        else
          out.append(text.substr(pos, length));
    }
    pos += length;
  }
  out.push_back('"');
}

}  // namespace bh
