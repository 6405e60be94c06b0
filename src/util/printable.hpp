// Text from outside (addresses, headers, file contents) made safe to show on
// a terminal or in an error message, and the strict UTF-8 decoder behind it
// (also used by the JSON log writer). Header-only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bh {

// Length (1-4) of the well-formed UTF-8 sequence that starts at text[pos],
// or 0 when the bytes there are not one (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF, no lone or missing continuation bytes).
inline std::size_t utf8_sequence(std::string_view text, std::size_t pos,
                                 char32_t* code_point = nullptr) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  char32_t value = 0;
  if (lead < 0x80) {
    if (code_point) *code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 overlong lead, F5..FF
  }
  if (text.size() - pos < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    unsigned char c = byte(pos + i);
    if (i == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xBF)) return 0;
    value = (value << 6) | (c & 0x3F);
  }
  if (code_point) *code_point = value;
  return length;
}

inline bool valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length = utf8_sequence(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

// The longest prefix of text of at most max_bytes bytes that does not end
// inside a well-formed UTF-8 sequence (bytes that are not UTF-8 count as one
// each): cut text this way before escaping it, so that neither a character
// nor a \xHH escape is split.
inline std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = 0;
  while (end < max_bytes) {
    std::size_t length = utf8_sequence(text, end);
    if (length == 0) length = 1;
    if (end + length > max_bytes) break;
    end += length;
  }
  return text.substr(0, end);
}

// Code points a terminal or a reader must not get raw: C0 controls, DEL, C1
// controls, line and paragraph separators, and the bidirectional controls
// that can make text display in another order than it is stored.
inline bool is_unsafe_code_point(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || c == 0x200E ||
         c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

inline void append_hex_escape(std::string& out, unsigned char c) {
  constexpr char kHex[] = "0123456789ABCDEF";
  out += "\\x";
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0x0F]);
}

// Valid UTF-8 printable text as it is; every byte of an unsafe code point
// (above) and every byte that is not valid UTF-8 as \xHH. Characters in
// `keep` (ASCII controls such as "\t" or "\n") stay as they are.
inline std::string printable(std::string_view text, std::string_view keep = {}) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0) {
      append_hex_escape(out, static_cast<unsigned char>(text[pos]));
      ++pos;
      continue;
    }
    if (is_unsafe_code_point(c) && !(length == 1 && keep.find(text[pos]) != keep.npos)) {
      for (std::size_t i = 0; i < length; ++i)
        append_hex_escape(out, static_cast<unsigned char>(text[pos + i]));
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

}  // namespace bh
