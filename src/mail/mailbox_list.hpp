// RFC 5322 address lists (3.4, with the obsolete forms of 4.4 and UTF-8 of
// RFC 6532) as they appear in From:, Sender:, To: and Cc:. Our own
// tokenizer and recursive-descent parser: comments (nested, with
// quoted-pairs), quoted strings, angle-addr, bare addr-spec, groups,
// obs-route, obs-local-part, CFWS around '@' and '.', domain literals.
// RFC 2047 encoded words are recognised in display names (kept as written)
// and refused in addresses. Anything malformed or ambiguous is a failure
// whose reason names the problem and its offset, never the input bytes.
// Pure; linear in the input and bounded (kMaxAddressListInput,
// kMaxCommentDepth).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

inline constexpr std::size_t kMaxAddressListInput = 128 * 1024;  // above limits.header_bytes
inline constexpr std::size_t kMaxCommentDepth = 32;

struct Mailbox {
  std::string display_name;  // phrase words joined as written (one space), quotes removed;
                             // encoded words kept as written; empty when none
  std::string local;         // canonical: dot-atom when it can be one, else one quoted-string
  std::string domain;        // labels joined by '.' (CFWS removed), or "[literal]"
  std::string group;         // display name of the group listing it; empty outside groups

  std::string address() const { return local + "@" + domain; }
};

struct AddressList {
  std::vector<Mailbox> mailboxes;  // in order, members of groups included
  std::size_t groups = 0;          // group constructs seen, empty ones included
  std::string error;               // empty on success

  bool ok() const { return error.empty(); }
};

// value: a header field's value as HeaderField holds it (after the colon,
// folding CRLFs included, no final CRLF).
AddressList parse_address_list(std::string_view value);

}  // namespace bh
