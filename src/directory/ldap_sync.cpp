#include "directory/ldap_sync.hpp"

#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "directory/ldap_client.hpp"
#include "directory/ldap_delegations.hpp"
#include "directory/ldap_groups.hpp"
#include "directory/store_lists.hpp"
#include "util/printable.hpp"
#include "util/secret_file.hpp"

namespace bh::directory {
namespace {

bool same_user(const User& a, const User& b) {
  return a.address == b.address && a.tenant == b.tenant && a.display_name == b.display_name &&
         a.aliases == b.aliases && a.fax_numbers == b.fax_numbers &&
         a.mobile_numbers == b.mobile_numbers && a.permissions == b.permissions &&
         a.send_as == b.send_as;
}

bool same_tenant(const Tenant& a, const Tenant& b) {
  return a.id == b.id && a.name == b.name && a.domains == b.domains;
}

// "users[12].aliases[0]" -> 12 and "aliases[0]"; false for other fields.
bool split_indexed(std::string_view field, std::string_view list, std::size_t& index,
                   std::string_view& rest) {
  std::string prefix = std::string(list) + "[";
  if (!field.starts_with(prefix)) return false;
  field.remove_prefix(prefix.size());
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), index);
  if (ec != std::errc{} || end == field.data() + field.size() || *end != ']') return false;
  field.remove_prefix(static_cast<std::size_t>(end - field.data()) + 1);
  if (field.starts_with('.')) field.remove_prefix(1);
  rest = field;
  return true;
}

std::string problem_text(std::string_view attribute, const std::string& message) {
  return attribute.empty() ? message : fmt::format("{}: {}", attribute, message);
}

// The users found and the numbers kept, as one directory that passes
// normalise_directory. Problems name the entry's DN or the number; with
// on_error = "skip" the bad ones are left out, with "abort" they are
// reported and `refused` is set. Delegations are resolved once the users
// are settled, so a mailbox left out does not take its delegates along.
struct Assembly {
  TenantDirectory directory;
  std::vector<std::string> dns;  // of directory.users
  bool refused = false;
};

Result<Assembly> assemble(const LdapSource& source, const Tenant& tenant, LdapUsers found,
                          std::vector<ServiceNumber> numbers, const NormaliseOptions& options,
                          LdapSyncReport& report) {
  bool skip = source.on_error == LdapOnError::skip;
  std::size_t warnings_before = report.warnings.size();
  report.problems = std::move(found.problems);
  report.skipped = report.problems.size();
  std::vector<User> users;
  std::vector<std::string> dns;
  std::vector<LdapLinks> links;
  // Each entry on its own first, so a problem names the attribute as read.
  for (LdapUser& entry : found.users) {
    std::vector<FieldError> errors = normalise_user(entry.user, "", options);
    for (const FieldError& e : errors)
      report.problems.push_back(
          {entry.dn, problem_text(ldap_attribute_of(e.field, source.attributes), e.message)});
    if (!errors.empty()) {
      ++report.skipped;
      continue;
    }
    users.push_back(std::move(entry.user));
    dns.push_back(std::move(entry.dn));
    links.push_back(std::move(entry.links));
  }
  // Then across entries (an address twice, outside the tenant's domains, a
  // number's mailbox gone), until what is left passes: first without
  // delegations, then with those among the users left.
  bool delegations = false;
  while (true) {
    if (delegations) {
      report.warnings.resize(warnings_before);
      for (auto& warning : resolve_send_as(users, dns, links, source.attributes))
        report.warnings.push_back(std::move(warning));
    }
    Assembly assembly;
    assembly.directory = TenantDirectory{tenant, users, numbers};
    assembly.dns = dns;
    std::vector<FieldError> errors = normalise_directory(assembly.directory, options);
    if (errors.empty()) {
      bool refused = !skip && !report.problems.empty();
      if (delegations || refused) {  // a refused sync needs no delegations
        assembly.refused = refused;
        return assembly;
      }
      delegations = true;
      continue;
    }
    std::set<std::size_t> bad_users, bad_numbers;
    for (const FieldError& e : errors) {
      std::size_t index = 0;
      std::string_view rest;
      if (split_indexed(e.field, "users", index, rest) && index < users.size()) {
        report.problems.push_back(
            {dns[index], problem_text(ldap_attribute_of(rest, source.attributes), e.message)});
        bad_users.insert(index);
      } else if (split_indexed(e.field, "numbers", index, rest) && index < numbers.size()) {
        report.problems.push_back(
            {"service number " + numbers[index].number, problem_text(rest, e.message)});
        bad_numbers.insert(index);
      } else if (e.field.empty()) {
        continue;  // "more errors were found": the next round finds them
      } else {
        // The tenant itself (its id or domains in the configuration).
        return Error{fmt::format("tenant {}: {}: {}", source.tenant, e.field, e.message)};
      }
    }
    if (!skip) {
      Assembly refused;
      refused.refused = true;
      return refused;
    }
    if (bad_users.empty() && bad_numbers.empty())
      return Error{fmt::format("tenant {}: the directory does not pass validation", source.tenant)};
    for (auto i = bad_users.rbegin(); i != bad_users.rend(); ++i) {
      users.erase(users.begin() + static_cast<std::ptrdiff_t>(*i));
      dns.erase(dns.begin() + static_cast<std::ptrdiff_t>(*i));
      links.erase(links.begin() + static_cast<std::ptrdiff_t>(*i));
    }
    for (auto i = bad_numbers.rbegin(); i != bad_numbers.rend(); ++i)
      numbers.erase(numbers.begin() + static_cast<std::ptrdiff_t>(*i));
    report.skipped += bad_users.size();
    report.numbers_dropped += bad_numbers.size();
  }
}

// The tenant as the sync writes it: the store's, with the name and domains
// the configuration gives.
Result<Tenant> tenant_of(const LdapSource& source, const DirectoryStore& store) {
  auto stored = store.tenant(source.tenant);
  if (!stored) return stored.error();
  if (!*stored && source.domains.empty())
    return Error{
        fmt::format("tenant {} is not in the directory yet: give its domains (and tenant_name) in "
                    "[[directory.ldap]] to create it",
                    source.tenant)};
  Tenant tenant = *stored ? **stored : Tenant{source.tenant, "", {}};
  if (!source.tenant_name.empty()) tenant.name = source.tenant_name;
  if (!source.domains.empty()) tenant.domains = source.domains;
  return tenant;
}

// The groups' members, nested groups followed (with nested_groups) except
// through the users found. A group the search found (a mail-enabled one
// the filter matched) is expanded all the same.
Result<ExpandedGroups> read_groups(const LdapSource& source, LdapConnection& connection,
                                   const std::vector<LdapEntry>& users) {
  std::set<std::string> user_keys;
  for (const LdapEntry& entry : users)
    if (!is_group_entry(entry, source.attributes)) user_keys.insert(dn_key(entry.dn));
  return expand_groups(source.groups, user_keys, source.nested_groups, [&](const std::string& dn) {
    return connection.read_attribute(dn, source.attributes.member);
  });
}

void count_changes(const std::vector<User>& before, const std::vector<User>& after,
                   LdapSyncReport& report) {
  std::map<std::string, const User*> old;
  for (const User& user : before) old[user.address] = &user;
  for (const User& user : after) {
    auto found = old.find(user.address);
    if (found == old.end()) {
      ++report.added;
      continue;
    }
    if (!same_user(*found->second, user)) ++report.changed;
    old.erase(found);
  }
  report.removed = old.size();
}

}  // namespace

Result<std::string> read_ldap_password(const std::string& path) {
  auto text = read_secret_file(path, "LDAP password file", kLdapPasswordMaxBytes);
  if (!text) return text.error();
  std::string password = *text;
  if (password.ends_with('\n')) password.pop_back();
  if (password.ends_with('\r')) password.pop_back();
  if (password.find_first_of("\r\n") != std::string::npos)
    return Error{"LDAP password file " + path + ": must hold one line"};
  return password;
}

Result<LdapSyncReport> sync_ldap(const LdapSource& source, DirectoryStore& store,
                                 const NormaliseOptions& options) {
  LdapSyncReport report;
  report.tenant = source.tenant;
  if (source.url.starts_with("ldap://") && !source.starttls)
    report.warnings.push_back(source.url +
                              ": the password and the directory travel unencrypted "
                              "(use ldaps:// or starttls = true)");
  auto password = read_ldap_password(source.password_file);
  if (!password) return password.error();
  auto tenant = tenant_of(source, store);
  if (!tenant) return tenant.error();

  auto connection = LdapConnection::open(source, *password);
  if (!connection) return connection.error();
  const LdapAttributes& names = source.attributes;
  // member: only to tell a group among the entries (is_group_entry); a
  // group's members are read in full by read_groups.
  std::vector<std::string> wanted{names.mail,   names.proxy_addresses, names.fax,
                                  names.mobile, names.display_name,    names.member};
  for (const std::string* name : {&names.member_of, &names.delegates, &names.send_as_of})
    if (!name->empty()) wanted.push_back(*name);
  auto entries =
      (*connection)->search(source.base_dn, source.filter, wanted, source.page_size, &report.pages);
  if (!entries) return entries.error();
  auto groups = read_groups(source, **connection, *entries);
  if (!groups) return groups.error();
  for (std::string& warning : groups->warnings) report.warnings.push_back(std::move(warning));
  connection->reset();
  report.entries = entries->size();

  const std::string& id = tenant->id;
  auto users_before = all_users(store, id);
  if (!users_before) return users_before.error();
  auto numbers = all_numbers(store, id);
  if (!numbers) return numbers.error();

  auto assembly =
      assemble(source, *tenant, map_ldap_entries(*entries, source, groups->members, groups->groups),
               std::move(*numbers), options, report);
  if (!assembly) return assembly.error();
  if (assembly->refused) return report;
  const TenantDirectory& directory = assembly->directory;
  if (directory.users.empty() && !source.allow_empty) {
    report.problems.push_back(
        {source.base_dn, fmt::format("the search \"{}\" found no user; that would remove every "
                                     "user of the tenant (allow_empty = true permits it)",
                                     printable(source.filter))});
    return report;
  }
  count_changes(*users_before, directory.users, report);
  report.users = directory.users.size();
  auto stored_tenant = store.tenant(id);
  if (!stored_tenant) return stored_tenant.error();
  report.unchanged = report.added == 0 && report.removed == 0 && report.changed == 0 &&
                     report.numbers_dropped == 0 && *stored_tenant &&
                     same_tenant(**stored_tenant, directory.tenant);
  if (!report.unchanged)
    if (auto replaced = store.replace_tenant_directory(directory); !replaced)
      return replaced.error();
  report.applied = true;
  return report;
}

}  // namespace bh::directory
