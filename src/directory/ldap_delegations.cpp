#include "directory/ldap_delegations.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "directory/ldap_client.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

void add_once(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

std::vector<std::string> resolve_send_as(std::vector<User>& users,
                                         const std::vector<std::string>& dns,
                                         const std::vector<LdapLinks>& links,
                                         const LdapAttributes& names) {
  std::map<std::string, std::size_t> index;  // dn_key() -> user
  for (std::size_t i = 0; i < dns.size(); ++i) index.emplace(dn_key(dns[i]), i);
  std::vector<std::string> warnings;
  std::size_t unresolved = 0;
  // The user i names dn in attribute: the index of the user dn names, if any.
  auto find = [&](std::size_t i, const std::string& attribute,
                  const std::string& dn) -> std::optional<std::size_t> {
    if (auto found = index.find(dn_key(dn)); found != index.end()) return found->second;
    if (++unresolved <= kLdapMaxDelegationWarnings)
      warnings.push_back(fmt::format(
          "\"{}\": {}: \"{}\" is not among the synced users; that delegation is ignored",
          printable(dns[i]), attribute, printable(dn)));
    return std::nullopt;
  };
  for (User& user : users) user.send_as.clear();
  for (std::size_t i = 0; i < users.size() && i < links.size(); ++i) {
    for (const std::string& dn : links[i].delegates)  // users[i] is the mailbox
      if (auto delegate = find(i, names.delegates, dn); delegate && *delegate != i)
        add_once(users[*delegate].send_as, users[i].address);
    for (const std::string& dn : links[i].send_as_of)  // users[i] is the delegate
      if (auto mailbox = find(i, names.send_as_of, dn); mailbox && *mailbox != i)
        add_once(users[i].send_as, users[*mailbox].address);
  }
  if (unresolved > kLdapMaxDelegationWarnings)
    warnings.push_back(
        fmt::format("{} more delegation(s) to DNs that are not among the synced "
                    "users are ignored",
                    unresolved - kLdapMaxDelegationWarnings));
  return warnings;
}

}  // namespace bh::directory
