// X-Bridgehead-Signature, in the style of Stripe's webhooks:
//
//   X-Bridgehead-Signature: t=1767225600, v1=<64 lower-case hex digits>
//
// v1 is HMAC-SHA256, keyed with the shared secret, over the ASCII decimal
// timestamp, a '.', and the exact body bytes ("1767225600.{...}"). The
// timestamp is signed with the body so a captured request cannot be
// replayed later than the tolerance. Pure (OpenSSL's HMAC only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bh::connectors::webhook {

inline constexpr std::string_view kSignatureHeader = "X-Bridgehead-Signature";
// How far a signed timestamp may be from our clock, either way.
inline constexpr std::int64_t kSignatureToleranceSeconds = 300;

// Lower-case hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// "t=<timestamp>, v1=<hex HMAC over "<timestamp>.<body>">"
std::string sign(std::string_view key, std::int64_t timestamp, std::string_view body);

enum class SignatureCheck {
  valid,
  missing,    // no header
  malformed,  // not "t=..., v1=..."
  expired,    // timestamp further than the tolerance from now
  mismatch,   // no v1 matches
};
std::string_view describe(SignatureCheck check);

// The header as received. Several v1 entries are allowed (a sender rolling
// its key signs with both); one must match. Compared in constant time.
SignatureCheck verify(std::string_view header, std::string_view key, std::string_view body,
                      std::int64_t now, std::int64_t tolerance = kSignatureToleranceSeconds);

}  // namespace bh::connectors::webhook
