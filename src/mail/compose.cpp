#include "mail/compose.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// Bytes of UTF-8 per encoded word: 39 bytes are 52 base64 characters, so a
// word "=?UTF-8?B?...?=" is at most 64 (RFC 2047: 75), and a line with a
// field name stays within RFC 5322's 78.
constexpr std::size_t kWordBytes = 39;
// An ASCII header value longer than this is encoded too, so that it is
// folded (the values here are short: the callers cut them).
constexpr std::size_t kMaxPlainHeaderLine = 900;
constexpr std::size_t kBase64LineChars = 76;

bool printable_ascii(std::string_view text) {
  for (char c : text)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

void append_base64(std::string& out, std::string_view bytes) {
  // EVP_EncodeBlock takes an int: whole groups of 3 bytes at a time.
  constexpr std::size_t kChunk = 3 * 16384;
  for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
    std::size_t n = std::min(kChunk, bytes.size() - at);
    std::size_t start = out.size();
    out.resize(start + (n + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a NUL
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                  reinterpret_cast<const unsigned char*>(bytes.data() + at),
                                  static_cast<int>(n));
    out.resize(start + static_cast<std::size_t>(written));
  }
}

// Words of at most 64 characters, one per line: the first follows the
// field name ("Subject: "), so no line passes 78.
std::string encoded_words(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t length = utf8_sequence(text, end);
      if (length == 0) length = 1;  // sanitised text has none; never loop forever
      if (end + length - i > kWordBytes) break;
      end += length;
    }
    std::string word = "=?UTF-8?B?";
    append_base64(word, text.substr(i, end - i));
    word += "?=";
    if (!out.empty()) out += "\r\n ";
    out += word;
    i = end;
  }
  return out;
}

std::string quoted_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string sanitise_untrusted(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < text.size() && chars < max_chars) {
    std::size_t length = utf8_sequence(text, i);
    if (length == 0) {
      out += kReplacement;
      i += 1;
    } else {
      unsigned char lead = static_cast<unsigned char>(text[i]);
      bool c1 = length == 2 && lead == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
      if ((length == 1 && (lead < 0x20 || lead == 0x7F)) || c1)
        out += ' ';
      else
        out.append(text.substr(i, length));
      i += length;
    }
    ++chars;
  }
  // Surrounding space says nothing and would be lost in a header anyway.
  std::size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::string encode_header_text(std::string_view text, std::size_t start) {
  // Printable ASCII that cannot be mistaken for an encoded word, and fits
  // on its line.
  if (printable_ascii(text) && text.find("=?") == std::string_view::npos &&
      start + text.size() < kMaxPlainHeaderLine)
    return std::string(text);
  return encoded_words(text);
}

std::string mailbox_header(std::string_view display_name, std::string_view address) {
  std::string phrase =
      printable_ascii(display_name) && display_name.find("=?") == std::string_view::npos
          ? quoted_string(display_name)
          : encoded_words(display_name);
  // The address goes on a line of its own when "From: phrase <address>"
  // would pass 78 characters (an encoded phrase fills its line).
  bool fold = phrase.starts_with("=?") || 6 + phrase.size() + 3 + address.size() > 78;
  return fmt::format("{}{}<{}>", phrase, fold ? "\r\n " : " ", address);
}

std::string base64_lines(std::string_view bytes) {
  std::string encoded;
  encoded.reserve(bytes.size() / 3 * 4 + 4);
  append_base64(encoded, bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / kBase64LineChars * 2 + 2);
  for (std::size_t i = 0; i < encoded.size(); i += kBase64LineChars) {
    out.append(encoded, i, kBase64LineChars);
    out += "\r\n";
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t column = 0;
  auto emit = [&](std::string_view piece) {
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') {
      out += "\r\n";
      column = 0;
      ++pos;
      continue;
    }
    bool line_end = pos + 1 == text.size() || text[pos + 1] == '\r';
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end)) {
      emit(text.substr(pos, 1));
    } else {
      const char escaped[] = {'=', kHex[c >> 4], kHex[c & 0x0F]};
      emit(std::string_view(escaped, 3));
    }
  }
  return out;
}

}  // namespace bh
