#include "directory/ldap_groups.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "directory/ldap_client.hpp"
#include "directory/ldap_settings.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

using Members = std::optional<std::vector<std::string>>;

constexpr std::size_t kConfigured = static_cast<std::size_t>(-1);

std::string quoted(std::string_view dn) {
  return "\"" + printable(dn) + "\"";
}

// The entries read, by dn_key(): shared by the services, so a group in
// the groups of two services is read once.
class CachedReader {
 public:
  explicit CachedReader(const MemberReader& read) : read_(read) {}

  // The entry's members (nullopt: no such entry). The pointer stays valid
  // (std::map does not move its elements).
  Result<const Members*> get(const std::string& dn, const std::string& key) {
    if (auto found = cache_.find(key); found != cache_.end()) return &found->second;
    if (cache_.size() >= kLdapMaxGroupReads)
      return Error{fmt::format(
          "more than {} entries to read to expand nested groups (groups, and members that are no "
          "synced user); narrow the groups or set nested_groups = false",
          kLdapMaxGroupReads)};
    auto values = read_(dn);
    if (!values) return values.error();
    return &cache_.emplace(key, std::move(*values)).first->second;
  }
  std::size_t reads() const { return cache_.size(); }

 private:
  const MemberReader& read_;
  std::map<std::string, Members> cache_;
};

// A group met while expanding one service's groups, and the group that
// named it first (the configured ones: kConfigured), for the chain an
// error names.
struct Group {
  std::string dn;
  std::string key;
  std::size_t depth = 0;  // 0: a configured group
  std::size_t parent = kConfigured;
};

// "A" > "B" > "C": from the configured group down to groups[last].
std::string chain(const std::vector<Group>& groups, std::size_t last) {
  std::vector<std::string> dns;
  for (std::size_t i = last; i != kConfigured; i = groups[i].parent) dns.push_back(groups[i].dn);
  std::reverse(dns.begin(), dns.end());
  std::string out;
  for (const auto& dn : dns) out += (out.empty() ? "" : " > ") + quoted(dn);
  return out;
}

Error service_error(const std::string& service, const std::string& message) {
  return Error{fmt::format("group of service {}: {}", service, message)};
}

// Breadth first, so each group gets the depth of its shortest chain.
Status expand_service(const std::string& service, const std::vector<std::string>& configured,
                      const std::set<std::string>& user_keys, bool nested, CachedReader& reader,
                      ExpandedGroups& out) {
  std::set<std::string>& members = out.members[service];
  std::set<std::string>& group_keys = out.groups[service];
  std::vector<Group> groups;
  std::set<std::string> seen;  // keys of the entries met (cycles end here)
  for (const std::string& dn : configured) {
    std::string key = dn_key(dn);
    auto values = reader.get(dn, key);
    if (!values) return service_error(service, values.error().message);
    if (!**values) return service_error(service, quoted(dn) + ": no such entry");
    if (seen.insert(key).second) groups.push_back({dn, key});
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {  // groups grows while it is read
    group_keys.insert(groups[i].key);
    auto values = reader.get(groups[i].dn, groups[i].key);  // read above: from the cache
    if (!values) return service_error(service, values.error().message);
    for (const std::string& member : ***values) {
      std::string key = dn_key(member);
      members.insert(key);
      if (!nested || user_keys.contains(key) || !seen.insert(key).second) continue;
      auto inner = reader.get(member, key);
      if (!inner) return service_error(service, inner.error().message);
      if (!**inner || (**inner)->empty()) continue;  // no entry or no members: no group
      std::size_t depth = groups[i].depth + 1;
      if (depth > kLdapMaxGroupDepth)
        return service_error(
            service, fmt::format("{} > {}: nested more than {} levels deep", chain(groups, i),
                                 quoted(member), kLdapMaxGroupDepth));
      groups.push_back({member, std::move(key), depth, i});
    }
  }
  return ok_status();
}

}  // namespace

Result<ExpandedGroups> expand_groups(const std::map<std::string, std::vector<std::string>>& groups,
                                     const std::set<std::string>& user_keys, bool nested,
                                     const MemberReader& read) {
  ExpandedGroups out;
  CachedReader reader(read);
  for (const auto& [service, dns] : groups)
    if (Status expanded = expand_service(service, dns, user_keys, nested, reader, out); !expanded)
      return expanded.error();
  out.reads = reader.reads();
  return out;
}

}  // namespace bh::directory
