// Group membership for permissions, nested groups included: the configured
// groups' `member` values are read, and each member that is itself a group
// is read in turn, from the groups' side (a user's memberOf lists only its
// direct groups in Active Directory). Works the same on AD and OpenLDAP.
// Pure apart from the reader it is given, so the expansion is tested
// without a server; directory/ldap_sync.cpp feeds it the connection.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "directory/ldap_client.hpp"
#include "util/result.hpp"

namespace bh::directory {

// service -> dn_key()s (directory/ldap_client.hpp).
using GroupMembers = std::map<std::string, std::set<std::string>>;

// The values of the member attribute of the entry dn (LdapConnection::
// read_attribute): found, no such entry, or refused for that DN. An error:
// the read failed (the connection, a timeout).
using MemberReader = std::function<Result<LdapRead>(const std::string& dn)>;

struct ExpandedGroups {
  // Every member of a service's groups: directly, or through groups nested
  // in them (the nested groups' own DNs included).
  GroupMembers members;
  // The groups themselves: the configured ones and, with nesting, every
  // group found below them; a user's memberOf naming one of them counts.
  GroupMembers groups;
  std::size_t reads = 0;  // entries read
  // Members the server refused to answer for, each named once with the
  // group that lists it (at most kLdapMaxUnreadableMemberWarnings, then
  // how many more).
  std::vector<std::string> warnings;
};

// Expands groups (service -> configured group DNs). Members whose key is
// in user_keys (the synced users that are no group) are never read; any
// other member is read once per sync and is a group when it has member
// values. An entry without them, a DN that names no entry, and a DN the
// server refuses to answer for (a referral to another domain of the
// forest, no access, no valid DN: a warning) are plain members. Cycles end
// where a group is met again. Errors: a configured group that does not
// exist or is refused, a group more than kLdapMaxGroupDepth levels below a
// configured one (naming the chain), more than kLdapMaxGroupReads entries
// read, a failed read. Without nested, only the configured groups are read.
Result<ExpandedGroups> expand_groups(const std::map<std::string, std::vector<std::string>>& groups,
                                     const std::set<std::string>& user_keys, bool nested,
                                     const MemberReader& read);

}  // namespace bh::directory
