// From LDAP entries to directory users: which attribute becomes which
// field, and group membership to permissions. Pure (no connection), so the
// mapping is tested without a server; directory/ldap_sync.cpp feeds it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "directory/ldap_client.hpp"
#include "directory/ldap_settings.hpp"
#include "directory/model.hpp"

namespace bh::directory {

// A problem with one entry, named by its DN (or, for a kept service number,
// by the number).
struct LdapProblem {
  std::string dn;
  std::string message;
};

// service -> dn_key()s of the members of its groups (their `member` values).
using GroupMembers = std::map<std::string, std::set<std::string>>;

struct LdapUser {
  User user;  // as read: not normalised yet
  std::string dn;
};

struct LdapUsers {
  std::vector<LdapUser> users;
  std::vector<LdapProblem> problems;  // entries that became no user
};

// Each entry becomes a user of source.tenant:
//  - address: `mail`, else the "SMTP:" proxy address;
//  - aliases: the other "SMTP:"/"smtp:" proxy addresses (X500:, SIP:, ...
//    are no mail addresses and are ignored);
//  - fax and mobile numbers, display name: their attributes as written;
//  - permissions: each service of source.groups whose group lists the
//    entry as a member, or that the entry's memberOf names.
// An entry without any mail address is a problem.
LdapUsers map_ldap_entries(const std::vector<LdapEntry>& entries, const LdapSource& source,
                           const GroupMembers& members);

// The attribute a field of a user came from, for problems: "fax_numbers[1]"
// -> "facsimileTelephoneNumber". Unknown fields are returned as they are.
std::string ldap_attribute_of(std::string_view field, const LdapAttributes& attributes);

}  // namespace bh::directory
