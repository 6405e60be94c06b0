// The signed processed stamp (loop guard, ARCHITECTURE.md 1 and m365.md
// 3.4): mail that Bridgehead passed on carries
//
//   X-Bridgehead-Processed: v=1; n=<node>; t=<unix seconds>; k=<key id>;
//    s=<signature>
//
// (folded before "s=", one line when unfolded). <key id> is the first 8
// lower-case hex digits of SHA-256(key); <signature> is the unpadded
// base64url HMAC-SHA256, under that key, of
//
//   "X-Bridgehead-Processed" NUL "v=1" NUL "n=<node>" NUL "t=<t>" NUL "k=<key id>" NUL
//   "m=<Message-ID>"
//
// where <Message-ID> is the value of the message's first Message-ID field,
// unfolded and trimmed ("" when it has none). The tenant's transport rule
// excepts stamped mail, and Bridgehead does not route it there again; a
// stamp nobody outside can forge, bound to the message, is what makes that
// safe. Pure: no files, no sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mail/header_block.hpp"

namespace bh {

inline constexpr std::string_view kStampField = "X-Bridgehead-Processed";

struct StampKeys {
  std::string current;   // signs and verifies; not empty
  std::string previous;  // verifies only (key rotation); empty: none
  std::string node;      // n=: this gateway's name; informational, covered by the signature
  std::int64_t max_age_seconds = 604800;  // 7 days
};

// Clock skew allowed between nodes sharing a key.
inline constexpr std::int64_t kStampMaxFutureSeconds = 300;

// First 8 lower-case hex digits of SHA-256(key).
std::string stamp_key_id(std::string_view key);

// The value signed: the first Message-ID field's value, unfolded and
// trimmed; "" when the header has none.
std::string stamp_message_id(const HeaderBlock& header);

// The whole field, "X-Bridgehead-Processed: ...\r\n", signed with the
// current key. Bytes of the node outside '!'..'~' and ';' become '_' (the
// loader accepts host names only; this keeps the field one header field).
std::string make_stamp_field(const StampKeys& keys, std::string_view message_id, std::int64_t now);

enum class StampStatus { valid, bad_syntax, unknown_key, bad_signature, stale, future };
// "valid", "bad_syntax", ... (for the trace).
std::string_view to_string(StampStatus status);

// field_value: the raw value after the colon (folding allowed). Checked in
// this order: syntax, key id (current or previous), signature (constant
// time), then age: older than max_age_seconds is stale, more than
// kStampMaxFutureSeconds ahead of now is future.
StampStatus verify_stamp(const StampKeys& keys, std::string_view field_value,
                         std::string_view message_id, std::int64_t now);

struct StampCheck {
  bool valid_present = false;        // at least one valid stamp is kept
  std::vector<std::string> removed;  // one reason per removed field: "untrusted_peer", "stale", ...
};

// On arrival. content: the message, its first header_size bytes the header
// (the empty line included, as the session and the spool count it). From
// an untrusted peer every stamp is removed; from a trusted one only those
// that do not verify. Several valid stamps are all kept (a message may
// pass twice). header_size stays exact.
StampCheck check_stamps(std::string& content, std::size_t& header_size, const StampKeys& keys,
                        bool trusted_peer, std::int64_t now);

// On the way in: puts a fresh stamp right below the leading Received:
// fields (at the top when there are none), signed over the message's
// Message-ID; header_size grows by its length.
void add_stamp(std::string& content, std::size_t& header_size, const StampKeys& keys,
               std::int64_t now);

}  // namespace bh
