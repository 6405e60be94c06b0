// Mailbox addresses as they appear in SMTP paths (RFC 5321 4.1.2, RFC 6531).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bh {

struct Address {
  std::string local;   // as sent (quoted local parts keep their quotes)
  std::string domain;  // as sent; compare with domain_key()

  bool null() const { return local.empty() && domain.empty(); }
  std::string text() const { return null() ? std::string() : local + "@" + domain; }
  std::string path() const { return "<" + text() + ">"; }
  std::string domain_key() const;  // lower-cased, trailing dot removed
  bool ascii() const;
};

enum class PathError { syntax, too_long, non_ascii };

struct PathParse {
  std::optional<Address> address;  // set on success; null Address for "<>"
  PathError error = PathError::syntax;
  std::string_view rest;    // what follows the closing '>' (parameters)
  bool postmaster = false;  // "<Postmaster>" without a domain (address: postmaster@"")
};

// Parses "<local@domain>" (source routes "<@a,@b:x@y>" are accepted and
// dropped, as RFC 5321 asks; one trailing dot of the domain is removed).
// allow_null accepts "<>". allow_utf8 permits UTF-8 in local part and
// domain (SMTPUTF8 transactions only). max_local: the longest local part
// (limits.local_part; RFC 5321 says 64, SRS and VERP senders need more).
PathParse parse_path(std::string_view text, bool allow_null, bool allow_utf8,
                     std::size_t max_local = 64);

// Sender-specified routing in a local part: '%', '!' or a quoted '@'
// ("user%foreign@host", "foreign!user@host", "\"user@foreign\"@host").
bool has_routing_syntax(const Address& address);

std::string to_lower_ascii(std::string_view text);

}  // namespace bh
