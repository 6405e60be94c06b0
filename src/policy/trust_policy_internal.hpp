// Helpers shared by the pieces of TrustPolicy (trust_connection.cpp,
// trust_headers.cpp, trust_sender.cpp, trust_policy.cpp). Internal to src/policy:
// in a namespace of their own, so a short name such as contains() never meets
// another file's.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "mail/header_block.hpp"
#include "mail/mailbox_list.hpp"
#include "policy/routes.hpp"
#include "policy/trust_policy.hpp"

namespace bh::trust_detail {

inline bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

inline bool domain_in(const std::vector<std::string>& domains, std::string_view domain) {
  for (const auto& d : domains)
    if (domain_matches(d, domain)) return true;
  return false;
}

inline Verdict refused(std::string reply, std::string reason = {}) {
  return Verdict::refuse(550, "5.7.1", std::move(reply), std::move(reason));
}

// A decision that needs the directory while it cannot be trusted (never
// loaded, or not refreshed for too long): try later, never accept unchecked.
inline Verdict directory_unavailable(const std::string& why) {
  return Verdict::refuse(451, "4.3.0",
                         "Temporary failure: the directory is unavailable, try again later",
                         "directory unavailable: " + why);
}

inline std::string domain_key_of(const Mailbox& m) {
  return Address{{}, m.domain}.domain_key();
}

// Header bytes shown to a client or written to the log only when they are
// short printable ASCII; otherwise a placeholder (trust_headers.cpp).
std::string shown_value(std::string_view value, std::size_t max = 100);

// The mailboxes of a From: (or Sender:) header field: exactly one field,
// well-formed, mailboxes only (no group syntax).
struct HeaderMailboxes {
  std::vector<Mailbox> mailboxes;
  std::string problem;  // for the log; empty when usable
};

HeaderMailboxes header_mailboxes(const HeaderBlock& block, std::string_view name);

// Who the message says sent it (RFC 5322 3.6.2): every From: mailbox, and
// the one mailbox checked as "the From: mailbox": the only From: mailbox,
// or with several, the single Sender: mailbox.
struct ShownSender {
  std::vector<Mailbox> from;
  Mailbox checked;
  bool checked_is_sender = false;  // from Sender:, because From: lists several
  std::string reply;               // refusal text; empty when usable
  std::string reason;              // for the log
};

ShownSender shown_sender(const HeaderBlock& block);

// Why a message on a Microsoft 365 connection counts as internet mail, or
// empty when the tenant-side markers say it is the tenant's own: exactly one
// X-MS-Exchange-CrossTenant-AuthAs, "Internal"; FromEntityHeader, when
// present, exactly once and "Hosted". Missing, repeated or other values:
// internet mail.
std::string internet_marker(const HeaderBlock& block);

}  // namespace bh::trust_detail
