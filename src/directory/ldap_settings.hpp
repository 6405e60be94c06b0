// [[directory.ldap]]: one LDAP source (an Active Directory or OpenLDAP
// server) whose users `bridgehead directory sync ldap` copies into one
// tenant (docs/directory.md). Read by server/config_ldap.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bh::directory {

// Attribute names, Active Directory's by default. Each is read case-insensitively.
struct LdapAttributes {
  std::string mail = "mail";                       // the primary address
  std::string proxy_addresses = "proxyAddresses";  // "SMTP:" primary, "smtp:" aliases
  std::string fax = "facsimileTelephoneNumber";
  std::string mobile = "mobile";
  std::string display_name = "displayName";
  std::string member_of = "memberOf";  // on users; "" : not read
  std::string member = "member";       // on groups
  // Send on behalf (docs/directory.md): on a mailbox, the DNs of the users
  // who may send for it, and on a user, the DNs of the mailboxes it may send
  // for (AD's back-link of the former). Both are read; "" : not read.
  std::string delegates = "publicDelegates";
  std::string send_as_of = "publicDelegatesBL";
};

enum class LdapOnError {
  abort,  // any bad entry: nothing is changed
  skip,   // bad entries are left out (and reported); the rest is applied
};

// Limits of one sync.
inline constexpr int kLdapMaxPageSize = 1000;  // Active Directory's MaxPageSize
inline constexpr std::size_t kLdapPasswordMaxBytes = 1024;
// Nested groups: levels below a configured group (deeper is an error naming
// the chain), and entries read in one sync to expand the groups (nested
// groups, and members that are no synced user).
inline constexpr std::size_t kLdapMaxGroupDepth = 16;
inline constexpr std::size_t kLdapMaxGroupReads = 10'000;
// Members below a configured group that the server does not answer for (a
// referral to another domain, no access, no DN): warned about one by one
// up to this many, then counted.
inline constexpr std::size_t kLdapMaxUnreadableMemberWarnings = 50;
// Delegations to DNs that are no synced user: warned about one by one up to
// this many, then counted.
inline constexpr std::size_t kLdapMaxDelegationWarnings = 50;

struct LdapSource {
  std::string tenant;       // tenant id (GUID): the directory this source replaces
  std::string tenant_name;  // for a tenant the store does not have yet
  // The tenant's accepted domains; empty: those the store has for it.
  std::vector<std::string> domains;
  std::string url;        // ldap://host:389 or ldaps://host:636
  bool starttls = false;  // ldap:// upgraded with StartTLS (refused if the server cannot)
  // ldap:// without StartTLS sends the bind password in clear: refused at
  // config load unless this is set (a test server, a loopback tunnel).
  bool allow_plaintext = false;
  std::string ca_file;  // CA bundle for ldaps:// and StartTLS; "": the system's
  std::string bind_dn;
  std::string password_file;  // the bind password (one line), never on the command line
  std::string base_dn;
  std::string filter = "(&(objectCategory=person)(objectClass=user)(mail=*))";
  int page_size = 500;  // RFC 2696 paged results, 1 to kLdapMaxPageSize
  int timeout_seconds = 30;
  LdapAttributes attributes;
  // service ("fax", "sms") -> the DNs of the groups whose members have it.
  std::map<std::string, std::vector<std::string>> groups;
  // Members of groups that are members of a configured group (and so on)
  // have its permission too.
  bool nested_groups = true;
  std::int64_t interval_seconds = 3600;  // `sync ldap` without --once: how often
  LdapOnError on_error = LdapOnError::abort;
  // A search that finds nobody would empty the tenant: refused unless set.
  bool allow_empty = false;
};

}  // namespace bh::directory
