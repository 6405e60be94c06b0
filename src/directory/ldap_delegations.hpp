// Send on behalf from LDAP: which synced users may send as which synced
// mailboxes (User::send_as). Exchange writes the delegation on the mailbox
// (publicDelegates: the delegates' DNs) and Active Directory keeps the
// back-link on each delegate (publicDelegatesBL: the mailboxes' DNs). Both
// are read and united: an OpenLDAP directory has only what was written (no
// back-links), and the back-link names a mailbox that the search did not
// find, so that is reported. Pure; directory/ldap_sync.cpp calls it.
#pragma once

#include <string>
#include <vector>

#include "directory/ldap_settings.hpp"
#include "directory/ldap_users.hpp"
#include "directory/model.hpp"

namespace bh::directory {

// users[i] has the DN dns[i] and the links links[i] (the three lists are
// parallel; the users are normalised, so their addresses are lower case).
// Sets each user's send_as to the primary addresses of the mailboxes among
// users it may send for: those whose delegates name it, and those its
// send_as_of names, at most DirectoryLimits::send_as (the first by
// address; a warning names the user and how many are left out). A DN that
// names none of the users (not found by the search, or left out) is
// ignored, and so is a delegate that is a group (links[i].group: its
// members are not expanded); the result has one warning for each, naming
// the entry, the attribute and the DN. Each kind of warning at most
// kLdapMaxDelegationWarnings times, then how many more.
std::vector<std::string> resolve_send_as(std::vector<User>& users,
                                         const std::vector<std::string>& dns,
                                         const std::vector<LdapLinks>& links,
                                         const LdapAttributes& names);

}  // namespace bh::directory
