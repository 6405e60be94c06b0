#include "connectors/fax/fax_mail.hpp"

#include <ctime>

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "smtp/server/received_header.hpp"
#include "util/clock.hpp"

namespace bh::connectors::fax {
namespace {

// Cuts of the untrusted values (T.30 allows 20 characters of TSI).
constexpr std::size_t kMaxNameChars = 64;
constexpr std::size_t kMaxTsiChars = 20;
constexpr std::size_t kMaxCallerChars = 32;

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
