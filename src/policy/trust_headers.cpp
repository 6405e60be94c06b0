// What a message's header says, for the trust decisions: the From: and
// Sender: mailboxes, the sender shown, and the markers of internet mail.
#include <algorithm>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "mail/mailbox_list.hpp"
#include "policy/trust_policy_internal.hpp"

namespace bh::trust_detail {

std::string shown_value(std::string_view value, std::size_t max) {
  bool plain =
      !value.empty() && value.size() <= max &&
      std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  return plain ? std::string(value) : std::string("(unprintable or too long)");
}

HeaderMailboxes header_mailboxes(const HeaderBlock& block, std::string_view name) {
  HeaderMailboxes out;
  auto fields = block.all(name);
  if (fields.empty()) {
    out.problem = fmt::format("no {}: header field", name);
    return out;
  }
  if (fields.size() > 1) {
    out.problem = fmt::format("{} {}: header fields", fields.size(), name);
    return out;
  }
  AddressList list = parse_address_list(fields.front()->value);
  if (!list.ok()) {
    out.problem = fmt::format("{}: header field malformed: {}", name, list.error);
  } else if (list.groups != 0) {
    out.problem = fmt::format("{}: header field uses group syntax", name);
  } else {
    out.mailboxes = std::move(list.mailboxes);
  }
  return out;
}

ShownSender shown_sender(const HeaderBlock& block) {
  ShownSender out;
  HeaderMailboxes from = header_mailboxes(block, "From");
  if (!from.problem.empty()) {
    out.reply = "Message refused: the message needs exactly one well-formed From: header field";
    out.reason = from.problem;
    return out;
  }
  out.from = std::move(from.mailboxes);
  if (out.from.size() == 1) {
    out.checked = out.from.front();
    return out;
  }
  HeaderMailboxes sender = header_mailboxes(block, "Sender");
  if (sender.problem.empty() && sender.mailboxes.size() != 1)
    sender.problem = fmt::format("Sender: lists {} mailboxes", sender.mailboxes.size());
  if (!sender.problem.empty()) {
    out.reply = "Message refused: From: lists several mailboxes without a single Sender: mailbox";
    out.reason = fmt::format("From: lists {} mailboxes; {}", out.from.size(), sender.problem);
    return out;
  }
  out.checked = sender.mailboxes.front();
  out.checked_is_sender = true;
  return out;
}

std::string internet_marker(const HeaderBlock& block) {
  constexpr std::string_view kAuthAs = "X-MS-Exchange-CrossTenant-AuthAs";
  constexpr std::string_view kEntity = "X-MS-Exchange-CrossTenant-FromEntityHeader";
  auto auth = block.all(kAuthAs);
  if (auth.empty()) return fmt::format("no {} header", kAuthAs);
  if (auth.size() > 1) return fmt::format("{} {} headers", auth.size(), kAuthAs);
  std::string auth_value = HeaderBlock::unfolded(auth.front()->value);
  if (!iequals_ascii(auth_value, "Internal"))
    return fmt::format("{} is '{}', not Internal", kAuthAs, shown_value(auth_value));
  auto entity = block.all(kEntity);
  if (entity.size() > 1) return fmt::format("{} {} headers", entity.size(), kEntity);
  if (entity.size() == 1) {
    std::string value = HeaderBlock::unfolded(entity.front()->value);
    if (!iequals_ascii(value, "Hosted"))
      return fmt::format("{} is '{}', not Hosted", kEntity, shown_value(value));
  }
  return {};
}

}  // namespace bh::trust_detail
