// The mail a received fax becomes (issue 10, fax -> mail): From the caller
// at the fax domain, so that replying sends a fax back; a subject with the
// caller and the page count; a short text part with what the fax server
// knew about the call; the fax as a PDF (and optionally the TIFF). Every
// value from the call (caller name, TSI) is untrusted: control characters
// and invalid UTF-8 are replaced, and header values are written as quoted
// strings or RFC 2047 encoded words. CRLF line endings, no line over 998
// characters. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bh::connectors::fax {

struct FaxMailFields {
  std::string mailbox;           // To: the owner of the called number
  std::string called;            // E.164 of the called number
  std::string caller;            // E.164 of the caller; "" when unknown or not a valid number
  std::string caller_raw;        // the caller id as the fax server gave it (shown when not E.164)
  std::string caller_name;       // caller id name, UTF-8, untrusted
  std::string tsi;               // the sending station's identifier, untrusted
  int pages = 0;                 // of the fax
  std::int64_t received_at = 0;  // unix seconds
  std::string reply_domain;      // From: <+4930123456@reply_domain>
  std::string hostname;          // Message-ID's right side
  std::string unique;            // Message-ID's left side (a queue id): unique per mail
  std::string pdf;               // the fax as a PDF (bytes)
  std::string tiff;              // the TIFF (bytes); empty: not attached
};

// Where an unidentified caller's mail comes from. Never derived from the
// TSI: the sending machine sets it freely, so a reply to it could fax a
// stranger. A reply to unknown@ bounces (not a number), which says why.
inline constexpr std::string_view kUnknownCallerLocalPart = "unknown";

// The message: header, empty line, body.
std::string compose_fax_mail(const FaxMailFields& fields);

// Helpers, exposed for the tests.
// UTF-8 text with control characters (C0, DEL, C1) replaced by a space and
// invalid UTF-8 by U+FFFD, cut to at most max_chars code points.
std::string sanitise_untrusted(std::string_view text, std::size_t max_chars);
// A header value: as it is when printable ASCII, else RFC 2047 "B"
// encoded words (UTF-8, at most 75 characters each, split between code
// points), folded with CRLF SP. `start` is the length of the field name
// and colon already on the line (a long ASCII value is encoded as well).
std::string encode_header_text(std::string_view text, std::size_t start);
// A display name and address: "Name" <a@b> (quoted-string) when ASCII,
// else an encoded word phrase.
std::string mailbox_header(std::string_view display_name, std::string_view address);
// Base64 in lines of 76 characters, each ending with CRLF.
std::string base64_lines(std::string_view bytes);

}  // namespace bh::connectors::fax
