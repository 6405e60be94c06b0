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

#include "mail/compose.hpp"

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

// The helpers it is written with (mail/compose.hpp), under the names the
// fax code and its tests know.
using bh::base64_lines;
using bh::encode_header_text;
using bh::mailbox_header;
using bh::sanitise_untrusted;

}  // namespace bh::connectors::fax
