// `bridgehead directory sync ldap`: one LDAP source's users replace its
// tenant's users in the directory store, in one transaction
// (DirectoryStore::replace_tenant_directory), after the same validation as
// the API and the CSV import. The tenant's service numbers are not in LDAP:
// they are kept as they are (and one whose mailbox is gone is a problem).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "directory/directory_store.hpp"
#include "directory/ldap_settings.hpp"
#include "directory/ldap_users.hpp"
#include "directory/validate.hpp"
#include "util/result.hpp"

namespace bh::directory {

struct LdapSyncReport {
  std::string tenant;
  std::size_t entries = 0;  // found by the search
  std::size_t pages = 0;    // paged search requests
  std::size_t users = 0;    // the tenant's users after the sync
  std::size_t added = 0;
  std::size_t removed = 0;
  std::size_t changed = 0;
  std::size_t skipped = 0;          // entries left out (on_error = "skip")
  std::size_t numbers_dropped = 0;  // service numbers left out (on_error = "skip")
  // Every bad entry, by DN. With on_error = "abort" any problem means that
  // nothing was changed.
  std::vector<LdapProblem> problems;
  std::vector<std::string> warnings;
  bool applied = false;    // the store holds what LDAP has (changed or not)
  bool unchanged = false;  // it held it already: nothing was written
};

// An error: the sync could not run (password file, connection, bind,
// search, a configured group that does not exist or cannot be read, groups
// nested too deep, the store) and nothing changed. Otherwise the report
// says whether the directory was applied; warnings name group members the
// server would not answer for (plain members then) and delegations that
// are ignored (to DNs that are no synced user, to groups, past the limit).
Result<LdapSyncReport> sync_ldap(const LdapSource& source, DirectoryStore& store,
                                 const NormaliseOptions& options);

// The bind password: the file's first line (a trailing line end removed).
Result<std::string> read_ldap_password(const std::string& path);

}  // namespace bh::directory
