#include "connectors/webhook/mime_decode.hpp"

#include "mail/address.hpp"  // to_lower_ascii

namespace bh::connectors::webhook {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_latin1(std::string_view charset) {
  std::string c = to_lower_ascii(charset);
  return c == "iso-8859-1" || c == "iso8859-1" || c == "latin1" || c == "latin-1" || c == "l1" ||
         c == "iso_8859-1" || c == "windows-1252" || c == "cp1252";
}

bool is_utf8_or_ascii(std::string_view charset) {
  std::string c = to_lower_ascii(charset);
  return c.empty() || c == "utf-8" || c == "utf8" || c == "us-ascii" || c == "ascii";
}

// The Q encoding of RFC 2047: quoted-printable with '_' for space.
std::string decode_q(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      out.push_back(' ');
    } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// One encoded word at value[pos] ("=?cs?X?text?="): its decoded text and
// its length, or false when there is none or its charset is unknown.
bool encoded_word(std::string_view value, std::size_t pos, std::string& decoded,
                  std::size_t& length) {
  if (value.substr(pos, 2) != "=?") return false;
  std::size_t q1 = value.find('?', pos + 2);
  if (q1 == std::string_view::npos || q1 + 2 >= value.size() || value[q1 + 2] != '?') return false;
  std::size_t end = value.find("?=", q1 + 3);
  if (end == std::string_view::npos || end - pos > 200) return false;  // RFC 2047: 75, be lenient
  std::string_view charset = value.substr(pos + 2, q1 - pos - 2);
  if (std::size_t star = charset.find('*'); star != std::string_view::npos)
    charset = charset.substr(0, star);  // RFC 2231 language suffix
  char kind = value[q1 + 1];
  std::string_view text = value.substr(q1 + 3, end - q1 - 3);
  if (text.find(' ') != std::string_view::npos) return false;
  std::string raw;
  if (kind == 'B' || kind == 'b')
    raw = decode_base64(text);
  else if (kind == 'Q' || kind == 'q')
    raw = decode_q(text);
  else
    return false;
  if (!is_utf8_or_ascii(charset) && !is_latin1(charset)) return false;
  decoded = to_utf8(raw, charset);
  length = end + 2 - pos;
  return true;
}

}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64[v >> 18]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out.push_back(kBase64[v >> 18]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

std::string decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;  // padding: the data ends
    int v = base64_value(c);
    if (v < 0) continue;  // line breaks, and whatever RFC 2045 says to ignore
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=' && i + 1 < text.size()) {
      if (text.substr(i + 1, 2) == "\r\n") {  // soft line break
        i += 2;
        line_start = out.size();
        continue;
      }
      int high = hex_value(text[i + 1]), low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    if (c == '\r' && text.substr(i, 2) == "\r\n") {
      // Trailing white space on an encoded line was added in transport.
      while (out.size() > line_start && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      out += "\r\n";
      ++i;
      line_start = out.size();
      continue;
    }
    out.push_back(c);  // includes a '=' that starts no valid sequence
  }
  return out;
}

std::string decode_transfer(std::string_view text, std::string_view encoding) {
  std::string e = to_lower_ascii(encoding);
  if (e == "base64") return decode_base64(text);
  if (e == "quoted-printable") return decode_quoted_printable(text);
  return std::string(text);
}

std::string to_utf8(std::string_view text, std::string_view charset) {
  if (!is_latin1(charset)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::string decode_encoded_words(std::string_view value) {
  std::string out;
  std::size_t pending_space_start = std::string::npos;  // white space after an encoded word
  bool last_was_word = false;
  for (std::size_t pos = 0; pos < value.size();) {
    std::string decoded;
    std::size_t length = 0;
    if (encoded_word(value, pos, decoded, length)) {
      // White space between two encoded words is not part of the text.
      if (last_was_word && pending_space_start != std::string::npos) out.erase(pending_space_start);
      out += decoded;
      pos += length;
      last_was_word = true;
      pending_space_start = std::string::npos;
      continue;
    }
    char c = value[pos++];
    if (c == ' ' || c == '\t') {
      if (last_was_word && pending_space_start == std::string::npos)
        pending_space_start = out.size();
    } else {
      last_was_word = false;
      pending_space_start = std::string::npos;
    }
    out.push_back(c);
  }
  return out;
}

std::string decode_rfc2231(std::string_view value) {
  std::size_t first = value.find('\'');
  std::size_t second = first == std::string_view::npos ? first : value.find('\'', first + 1);
  if (second == std::string_view::npos) return std::string(value);
  std::string_view charset = value.substr(0, first);
  std::string raw;
  for (std::size_t i = second + 1; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex_value(value[i + 1]) >= 0 &&
        hex_value(value[i + 2]) >= 0) {
      raw.push_back(static_cast<char>(hex_value(value[i + 1]) * 16 + hex_value(value[i + 2])));
      i += 2;
    } else {
      raw.push_back(value[i]);
    }
  }
  return to_utf8(raw, charset);
}

}  // namespace bh::connectors::webhook
