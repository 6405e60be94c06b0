#include "directory/ldap_users.hpp"

#include <algorithm>

#include "util/printable.hpp"

namespace bh::directory {
namespace {

bool has_prefix_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

void add_once(std::vector<std::string>& list, const std::string& value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end())
    list.push_back(value);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Addresses from `mail` and `proxyAddresses`. Exchange writes the primary
// address as "SMTP:" (upper case) and the others as "smtp:"; `mail` is the
// same primary address, so it wins if the two ever disagree and the
// "SMTP:" one is kept as an alias.
void read_addresses(const LdapEntry& entry, const LdapAttributes& names, User& user) {
  std::vector<std::string> proxies;
  std::string proxy_primary;
  for (const std::string& value : entry.values(names.proxy_addresses)) {
    if (!has_prefix_ignoring_case(value, "smtp:")) continue;
    std::string address = value.substr(5);
    if (value.starts_with("SMTP:") && proxy_primary.empty())
      proxy_primary = address;
    else
      proxies.push_back(address);
  }
  const auto& mail = entry.values(names.mail);
  user.address = !mail.empty() ? mail.front() : proxy_primary;
  for (std::size_t i = 1; i < mail.size(); ++i) add_once(user.aliases, mail[i]);
  if (!proxy_primary.empty() && lower(proxy_primary) != lower(user.address))
    add_once(user.aliases, proxy_primary);
  for (const auto& address : proxies)
    if (lower(address) != lower(user.address)) add_once(user.aliases, address);
}

// The services whose groups list the entry (members) or whose groups its
// memberOf names (group_keys).
std::vector<std::string> permissions_of(const LdapEntry& entry, const LdapSource& source,
                                        const GroupMembers& members,
                                        const GroupMembers& group_keys) {
  const LdapAttributes& names = source.attributes;
  std::vector<std::string> member_of;
  if (!names.member_of.empty())
    for (const auto& dn : entry.values(names.member_of)) member_of.push_back(dn_key(dn));
  std::string key = dn_key(entry.dn);
  std::vector<std::string> out;
  for (const auto& [service, dns] : source.groups) {
    auto listed = members.find(service);
    bool member = listed != members.end() && listed->second.contains(key);
    // The entry's few memberOf values are looked up among the (up to
    // kLdapMaxGroupReads) groups, not each group among them.
    auto groups = group_keys.find(service);
    for (std::size_t i = 0; i < member_of.size() && !member && groups != group_keys.end(); ++i)
      member = groups->second.contains(member_of[i]);
    if (member) out.push_back(service);
  }
  return out;
}

}  // namespace

bool is_group_entry(const LdapEntry& entry, const LdapAttributes& names) {
  std::string ranged = lower(names.member) + ";range=";
  for (const auto& [description, values] : entry.attributes)
    if (!values.empty() && (description == lower(names.member) || description.starts_with(ranged)))
      return true;
  return false;
}

LdapUsers map_ldap_entries(const std::vector<LdapEntry>& entries, const LdapSource& source,
                           const GroupMembers& members, const GroupMembers& nested_groups) {
  const LdapAttributes& names = source.attributes;
  // memberOf values are compared with the groups' DNs.
  GroupMembers group_keys = nested_groups;
  for (const auto& [service, dns] : source.groups)
    for (const auto& dn : dns) group_keys[service].insert(dn_key(dn));
  LdapUsers out;
  for (const LdapEntry& entry : entries) {
    LdapUser mapped;
    mapped.dn = entry.dn;
    User& user = mapped.user;
    user.tenant = source.tenant;
    read_addresses(entry, names, user);
    if (user.address.empty()) {
      out.problems.push_back({entry.dn, "has no mail address (neither " + names.mail +
                                            " nor an SMTP: entry in " + names.proxy_addresses +
                                            ")"});
      continue;
    }
    if (const auto& display = entry.values(names.display_name); !display.empty())
      user.display_name = display.front();
    for (const auto& number : entry.values(names.fax)) add_once(user.fax_numbers, number);
    for (const auto& number : entry.values(names.mobile)) add_once(user.mobile_numbers, number);
    // A group sends nothing itself: its members have the permissions.
    mapped.links.group = is_group_entry(entry, names);
    if (!mapped.links.group) user.permissions = permissions_of(entry, source, members, group_keys);
    if (!names.delegates.empty()) mapped.links.delegates = entry.values(names.delegates);
    if (!names.send_as_of.empty()) mapped.links.send_as_of = entry.values(names.send_as_of);
    out.users.push_back(std::move(mapped));
  }
  return out;
}

std::string ldap_attribute_of(std::string_view field, const LdapAttributes& attributes) {
  std::string_view base = field.substr(0, field.find('['));
  if (base == "address") return attributes.mail;
  if (base == "aliases") return attributes.proxy_addresses;
  if (base == "fax_numbers") return attributes.fax;
  if (base == "mobile_numbers") return attributes.mobile;
  if (base == "display_name") return attributes.display_name;
  if (base == "permissions") return "groups";
  if (base == "send_as")  // resolved from both (directory/ldap_delegations.hpp)
    return attributes.delegates.empty() || attributes.send_as_of.empty()
               ? attributes.delegates + attributes.send_as_of
               : attributes.delegates + "/" + attributes.send_as_of;
  return std::string(field);
}

}  // namespace bh::directory
