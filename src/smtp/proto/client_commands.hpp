// What the outbound session says, as pure functions: EHLO capabilities,
// MAIL/RCPT with the parameters the peer supports, dot-stuffing for DATA,
// and the checks that refuse to send what the peer cannot take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/envelope.hpp"

namespace bh::smtp {

struct Capabilities {
  bool esmtp = false;  // EHLO worked (else HELO)
  bool pipelining = false;
  bool starttls = false;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool chunking = false;
  bool dsn = false;
  bool enhanced_status_codes = false;
  std::optional<std::uint64_t> size;  // SIZE limit, 0 = no fixed limit
};

// From the lines of a 250 EHLO reply (the first line is the greeting name).
Capabilities parse_ehlo(const std::vector<std::string>& lines);

// True when the content has bytes >= 0x80 (8BITMIME needed).
bool has_eight_bit(std::string_view content);
// True when SMTPUTF8 is really needed: non-ASCII addresses or header.
bool needs_smtputf8(const Envelope& envelope, std::string_view content);

struct Refusal {
  std::string status;  // "5.6.3"
  std::string text;
};
// Why this message must not go to this peer, if it must not.
std::optional<Refusal> refuse_for_peer(const Envelope& envelope, std::string_view content,
                                       const Capabilities& peer);

// The commands as they go on the wire, ending in CRLF. Values from the
// envelope are encoded here (xtext for ENVID and ORCPT); a value that cannot
// be written without a CR, LF or NUL inside the line gives nullopt, and the
// caller refuses that sender or recipient instead of sending it.
std::optional<std::string> mail_from_command(const Envelope& envelope, std::size_t content_size,
                                             const Capabilities& peer, bool utf8);
std::optional<std::string> rcpt_to_command(const Recipient& recipient, const Capabilities& peer);

// True when text holds no CR, LF or NUL: safe inside one command line.
bool safe_in_command(std::string_view text);

// The DATA payload: dot-stuffed, ending in CRLF "." CRLF.
std::string dot_stuff(std::string_view content);

// xtext (RFC 3461 4) for ENVID and ORCPT.
std::string encode_xtext(std::string_view text);

}  // namespace bh::smtp
