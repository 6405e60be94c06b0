// The render helper's report on stdout: one `key=value` per line, values
// %XX-escaped (bytes below 0x20, '%' and from 0x7f up), so a value can hold
// any text and a line is always one line. Written by bridgehead-render,
// read by the gateway (connectors/fax/render_client.cpp), which treats it
// as untrusted: unknown keys are ignored, a key given twice keeps the
// first value. Header-only: the gateway does not link the render library.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace bh::render {

inline std::string report_escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == '%' || byte >= 0x7f) {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string report_line(std::string_view key, std::string_view value) {
  std::string line(key);
  line += '=';
  line += report_escape(value);
  line += '\n';
  return line;
}

inline int report_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A malformed escape is kept as it is (the reader only displays values).
inline std::string report_unescape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && report_hex_digit(value[i + 1]) >= 0 &&
        report_hex_digit(value[i + 2]) >= 0) {
      out +=
          static_cast<char>(report_hex_digit(value[i + 1]) * 16 + report_hex_digit(value[i + 2]));
      i += 2;
    } else {
      out += value[i];
    }
  }
  return out;
}

inline std::map<std::string, std::string> parse_report(std::string_view text) {
  std::map<std::string, std::string> fields;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    fields.emplace(std::string(line.substr(0, equals)), report_unescape(line.substr(equals + 1)));
  }
  return fields;
}

}  // namespace bh::render
