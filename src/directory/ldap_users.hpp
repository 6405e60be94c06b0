// From LDAP entries to directory users: which attribute becomes which
// field, and group membership to permissions. Pure (no connection), so the
// mapping is tested without a server; directory/ldap_sync.cpp feeds it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "directory/ldap_client.hpp"
#include "directory/ldap_groups.hpp"
#include "directory/ldap_settings.hpp"
#include "directory/model.hpp"

namespace bh::directory {

// A problem with one entry, named by its DN (or, for a kept service number,
// by the number).
struct LdapProblem {
  std::string dn;
  std::string message;
};

// Send-on-behalf links of one entry, as read (DNs, not resolved yet:
// directory/ldap_delegations.hpp).
struct LdapLinks {
  std::vector<std::string> delegates;   // on a mailbox: the users who may send for it
  std::vector<std::string> send_as_of;  // on a user: the mailboxes it may send for
  // The entry is a group (is_group_entry): a delegation naming it is not
  // expanded to its members, and it is no delegate itself.
  bool group = false;
};

struct LdapUser {
  User user;  // as read: not normalised yet
  std::string dn;
  LdapLinks links;
};

struct LdapUsers {
  std::vector<LdapUser> users;
  std::vector<LdapProblem> problems;  // entries that became no user
};

// An entry with values of the member attribute (in a search result Active
// Directory names a large one "member;range=0-1499") is a group, such as a
// mail-enabled group that the filter matched.
bool is_group_entry(const LdapEntry& entry, const LdapAttributes& names);

// Each entry becomes a user of source.tenant:
//  - address: `mail`, else the "SMTP:" proxy address;
//  - aliases: the other "SMTP:"/"smtp:" proxy addresses (X500:, SIP:, ...
//    are no mail addresses and are ignored);
//  - fax and mobile numbers, display name: their attributes as written;
//  - permissions: each service whose groups list the entry as a member
//    (members: service -> dn_key()s, directly or through nested groups),
//    or whose groups the entry's memberOf names (source.groups, and the
//    nested ones in nested_groups: service -> dn_key()s);
//  - links: the delegates and send_as_of attributes' values.
// A group entry (is_group_entry) gets no permission: it is no mailbox that
// sends; its members get the permissions through group expansion. An entry
// without any mail address is a problem.
LdapUsers map_ldap_entries(const std::vector<LdapEntry>& entries, const LdapSource& source,
                           const GroupMembers& members, const GroupMembers& nested_groups = {});

// The attribute a field of a user came from, for problems: "fax_numbers[1]"
// -> "facsimileTelephoneNumber". Unknown fields are returned as they are.
std::string ldap_attribute_of(std::string_view field, const LdapAttributes& attributes);

}  // namespace bh::directory
