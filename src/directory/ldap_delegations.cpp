#include "directory/ldap_delegations.hpp"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "directory/ldap_client.hpp"
#include "directory/validate.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

// Warnings of one kind: one by one up to kLdapMaxDelegationWarnings, then
// how many more (the text of `rest` with that number).
class BoundedWarnings {
 public:
  BoundedWarnings(std::vector<std::string>& out, std::string rest)
      : out_(out), rest_(std::move(rest)) {}
  void add(std::string warning) {
    if (++count_ <= kLdapMaxDelegationWarnings) out_.push_back(std::move(warning));
  }
  void finish() {
    if (count_ > kLdapMaxDelegationWarnings)
      out_.push_back(fmt::format(fmt::runtime(rest_), count_ - kLdapMaxDelegationWarnings));
  }

 private:
  std::vector<std::string>& out_;
  std::string rest_;
  std::size_t count_ = 0;
};

}  // namespace

std::vector<std::string> resolve_send_as(std::vector<User>& users,
                                         const std::vector<std::string>& dns,
                                         const std::vector<LdapLinks>& links,
                                         const LdapAttributes& names) {
  std::map<std::string, std::size_t> index;  // dn_key() -> user
  for (std::size_t i = 0; i < dns.size(); ++i) index.emplace(dn_key(dns[i]), i);
  std::vector<std::string> warnings;
  BoundedWarnings unresolved(warnings,
                             "{} more delegation(s) to DNs that are not among the synced users "
                             "are ignored");
  BoundedWarnings groups(warnings, "{} more delegation(s) naming a group are ignored");
  BoundedWarnings over_limit(warnings,
                             "{} more user(s) have delegations beyond the limit; the rest of "
                             "theirs are ignored");
  // The user i names dn in attribute: the index of the user dn names, if any.
  auto find = [&](std::size_t i, const std::string& attribute,
                  const std::string& dn) -> std::optional<std::size_t> {
    if (auto found = index.find(dn_key(dn)); found != index.end()) return found->second;
    unresolved.add(
        fmt::format("\"{}\": {}: \"{}\" is not among the synced users; that delegation is ignored",
                    printable(dns[i]), attribute, printable(dn)));
    return std::nullopt;
  };
  // A group may be the mailbox sent for (Exchange allows send on behalf of
  // a distribution group), but it sends nothing itself, and its members
  // are not read here: a delegate that is a group is ignored, with one
  // warning for both links of the delegation.
  std::set<std::pair<std::size_t, std::size_t>> group_delegations;  // (delegate, mailbox)
  auto sends = [&](std::size_t delegate, std::size_t mailbox, std::size_t named_by,
                   const std::string& attribute, const std::string& dn) {
    if (delegate >= links.size() || !links[delegate].group) return true;
    if (group_delegations.emplace(delegate, mailbox).second)
      groups.add(
          fmt::format("\"{}\": {}: \"{}\": the delegate is a group; a delegation to a group is not "
                      "expanded to its members and is ignored",
                      printable(dns[named_by]), attribute, printable(dn)));
    return false;
  };
  // Sets, so the mailboxes kept past the limit do not depend on the order
  // in which the server returned the entries.
  std::vector<std::set<std::string>> send_as(users.size());
  for (std::size_t i = 0; i < users.size() && i < links.size(); ++i) {
    for (const std::string& dn : links[i].delegates)  // users[i] is the mailbox
      if (auto delegate = find(i, names.delegates, dn);
          delegate && *delegate != i && sends(*delegate, i, i, names.delegates, dn))
        send_as[*delegate].insert(users[i].address);
    for (const std::string& dn : links[i].send_as_of)  // users[i] is the delegate
      if (auto mailbox = find(i, names.send_as_of, dn);
          mailbox && *mailbox != i && sends(i, *mailbox, i, names.send_as_of, dn))
        send_as[i].insert(users[*mailbox].address);
  }
  // The directory takes at most DirectoryLimits::send_as of one user: the
  // first ones (by address) are kept, so the user is not refused as a whole.
  for (std::size_t i = 0; i < users.size(); ++i) {
    std::set<std::string>& mailboxes = send_as[i];
    if (mailboxes.size() > DirectoryLimits::send_as) {
      auto first_left_out = std::next(mailboxes.begin(), DirectoryLimits::send_as);
      over_limit.add(fmt::format(
          "\"{}\": may send for {} mailboxes; the first {} are kept, the other {} (from "
          "\"{}\") are ignored",
          printable(i < dns.size() ? dns[i] : users[i].address), mailboxes.size(),
          DirectoryLimits::send_as, mailboxes.size() - DirectoryLimits::send_as,
          printable(*first_left_out)));
      mailboxes.erase(first_left_out, mailboxes.end());
    }
    users[i].send_as.assign(mailboxes.begin(), mailboxes.end());
  }
  unresolved.finish();
  groups.finish();
  over_limit.finish();
  return warnings;
}

}  // namespace bh::directory
