#pragma once

#include <cstdint>
#include <string>

#include "mail/envelope.hpp"

namespace bh::smtp {

// The trace header this hop prepends (RFC 5321 4.4), with the protocol name
// from RFC 3848/6531 (ESMTP, ESMTPS, UTF8SMTPS, ...). "for <rcpt>" only with a
// single recipient, so Bcc recipients are not revealed.
std::string received_header(const Envelope& envelope, const std::string& hostname, bool extended);

// RFC 5322 date-time in UTC, e.g. "Tue, 24 Nov 2026 21:36:57 +0000".
std::string rfc5322_date(std::int64_t unix_seconds);

}  // namespace bh::smtp
