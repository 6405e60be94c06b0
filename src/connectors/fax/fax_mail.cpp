#include "connectors/fax/fax_mail.hpp"

#include <ctime>

#include <fmt/format.h>

#include "connectors/webhook/mime_decode.hpp"
#include "directory/phone_number.hpp"
#include "smtp/server/received_header.hpp"
#include "util/clock.hpp"

namespace bh::connectors::fax {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// Bytes of UTF-8 per encoded word: 39 bytes are 52 base64 characters, so a
// word "=?UTF-8?B?...?=" is at most 64 (RFC 2047: 75), and a line with a
// field name stays within RFC 5322's 78.
constexpr std::size_t kWordBytes = 39;
// Cuts of the untrusted values (T.30 allows 20 characters of TSI).
constexpr std::size_t kMaxNameChars = 64;
constexpr std::size_t kMaxTsiChars = 20;
constexpr std::size_t kMaxCallerChars = 32;

// The length of the UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = lead < 0x80                    ? 1
                       : lead >= 0xC2 && lead <= 0xDF ? 2
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (length == 3) {  // no overlong forms, no surrogates
    if (lead == 0xE0 && byte(i + 1) < 0xA0) return 0;
    if (lead == 0xED && byte(i + 1) > 0x9F) return 0;
  }
  if (length == 4) {
    if (lead == 0xF0 && byte(i + 1) < 0x90) return 0;
    if (lead == 0xF4 && byte(i + 1) > 0x8F) return 0;
  }
  return length;
}

bool printable_ascii(std::string_view text) {
  for (char c : text)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
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
    webhook::append_base64(word, text.substr(i, end - i));
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

std::string utc_text(std::int64_t unix_seconds) {
  return utc_format(unix_seconds, "%Y-%m-%d %H:%M:%S UTC");
}

std::string file_stamp(std::int64_t unix_seconds) {
  return utc_format(unix_seconds, "%Y%m%d-%H%M%S");
}

// Only what is safe in a file name on every mail client's system.
std::string file_name_part(std::string_view text) {
  std::string out;
  for (char c : text)
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '+' ||
        c == '-')
      out += c;
  return out.empty() ? "unknown" : out;
}

// The boundary never occurs in base64 ("=_" is not in its alphabet), and
// every part is base64.
std::string boundary_of(const FaxMailFields& fields) {
  return "=_bridgehead_fax_" + file_name_part(fields.unique);
}

std::string text_part(const FaxMailFields& fields, const std::string& caller_display,
                      const std::string& name, const std::string& tsi) {
  std::string text;
  auto row = [&](std::string_view label, std::string_view value) {
    text += fmt::format("{:<16}{}\r\n", label, value);
  };
  text += fmt::format("A fax with {} page{} arrived for {}.\r\n\r\n", fields.pages,
                      fields.pages == 1 ? "" : "s", directory::international_format(fields.called));
  row("Caller:", caller_display);
  if (!name.empty()) row("Caller name:", name);
  if (!tsi.empty()) row("Station (TSI):", tsi);
  row("Called number:", directory::international_format(fields.called));
  row("Pages:", std::to_string(fields.pages));
  row("Received:", utc_text(fields.received_at));
  text += "\r\nThe fax is attached as a PDF.";
  if (!fields.caller.empty())
    text += " Replying to this mail sends a fax to the caller.";
  else
    text += " The caller is unknown, so a reply cannot reach them.";
  if (!tsi.empty())
    text += "\r\nThe station identifier (TSI) is set by the sending machine and is not verified.";
  text += "\r\n";
  return text;
}

void add_part(std::string& out, const std::string& boundary, std::string_view content_type,
              std::string_view disposition, std::string_view bytes) {
  out += "--" + boundary + "\r\n";
  // Parameters folded onto lines of their own (a file name is long).
  auto folded = [](std::string_view value) {
    std::string text(value);
    for (std::size_t at = 0; (at = text.find("; ", at)) != std::string::npos; at += 4)
      text.replace(at, 2, ";\r\n ");
    return text;
  };
  out += fmt::format("Content-Type: {}\r\n", folded(content_type));
  if (!disposition.empty()) out += fmt::format("Content-Disposition: {}\r\n", folded(disposition));
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(bytes);
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
  // on its line (the values here are short: cut above).
  if (printable_ascii(text) && text.find("=?") == std::string_view::npos &&
      start + text.size() < 900)
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
  webhook::append_base64(encoded, bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string compose_fax_mail(const FaxMailFields& fields) {
  std::string name = sanitise_untrusted(fields.caller_name, kMaxNameChars);
  std::string tsi = sanitise_untrusted(fields.tsi, kMaxTsiChars);
  std::string raw_caller = sanitise_untrusted(fields.caller_raw, kMaxCallerChars);
  bool known = !fields.caller.empty();
  std::string caller_display = known                ? directory::international_format(fields.caller)
                               : raw_caller.empty() ? "unknown"
                                                    : raw_caller + " (not a valid number)";

  // From: the caller's number at the fax domain when it is known (a reply
  // faxes back); else who the fax server could tell, at unknown@.
  std::string display;
  if (known)
    display = "Fax " + directory::international_format(fields.caller);
  else if (!tsi.empty())
    display = "Fax (unknown caller, station " + tsi + ")";
  else
    display = "Fax (unknown caller)";
  std::string from_address = known
                                 ? fields.caller + "@" + fields.reply_domain
                                 : std::string(kUnknownCallerLocalPart) + "@" + fields.reply_domain;

  std::string who = known                 ? directory::international_format(fields.caller)
                    : !raw_caller.empty() ? raw_caller
                    : !tsi.empty()        ? "station " + tsi
                                          : "an unknown caller";
  if (!name.empty()) who = name + " (" + who + ")";
  std::string subject =
      fmt::format("Fax from {} ({} page{})", who, fields.pages, fields.pages == 1 ? "" : "s");

  std::string boundary = boundary_of(fields);
  std::string out;
  out += "From: " + mailbox_header(display, from_address) + "\r\n";
  out += "To: <" + fields.mailbox + ">\r\n";
  out += "Subject: " + encode_header_text(subject, 9) + "\r\n";
  out += "Date: " + smtp::rfc5322_date(fields.received_at) + "\r\n";
  out += "Message-ID: <" + fields.unique + ".fax@" + fields.hostname + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n";
  out += "\r\nThis is a fax as a MIME message.\r\n";

  std::string file = fmt::format("fax-{}-{}", file_stamp(fields.received_at),
                                 file_name_part(known                ? fields.caller
                                                : raw_caller.empty() ? ""
                                                                     : raw_caller));
  add_part(out, boundary, "text/plain; charset=utf-8", "inline",
           text_part(fields, caller_display, name, tsi));
  add_part(out, boundary, fmt::format("application/pdf; name=\"{}.pdf\"", file),
           fmt::format("attachment; filename=\"{}.pdf\"", file), fields.pdf);
  if (!fields.tiff.empty())
    add_part(out, boundary, fmt::format("image/tiff; name=\"{}.tif\"", file),
             fmt::format("attachment; filename=\"{}.tif\"", file), fields.tiff);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace bh::connectors::fax
