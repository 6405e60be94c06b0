#include "directory/ldap_groups.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "directory/ldap_client.hpp"
#include "directory/ldap_settings.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

constexpr std::size_t kConfigured = static_cast<std::size_t>(-1);

std::string quoted(std::string_view dn) {
  return "\"" + printable(dn) + "\"";
}

// The entries read, by dn_key(): shared by the services, so a group in
// the groups of two services is read once.
class CachedReader {
 public:
  explicit CachedReader(const MemberReader& read) : read_(read) {}

  // The entry's members, as read. The pointer stays valid (std::map does
  // not move its elements).
  Result<const LdapRead*> get(const std::string& dn, const std::string& key) {
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
  std::map<std::string, LdapRead> cache_;
};

// Warnings about members that cannot be read: each DN once (it may be met
// in several groups and services), up to the limit, then a count.
class UnreadableMembers {
 public:
  explicit UnreadableMembers(std::vector<std::string>& out) : out_(out) {}
  void finish() {
    if (warned_.size() > kLdapMaxUnreadableMemberWarnings)
      out_.push_back(
          fmt::format("{} more group member(s) that cannot be read count as plain members",
                      warned_.size() - kLdapMaxUnreadableMemberWarnings));
  }
  void add(const std::string& key, const std::string& dn, const std::string& group,
           const std::string& refusal) {
    if (!warned_.insert(key).second || warned_.size() > kLdapMaxUnreadableMemberWarnings) return;
    out_.push_back(fmt::format(
        "{} (a member of {}) cannot be read: {}; it counts as a plain member (groups nested in "
        "it are not followed)",
        quoted(dn), quoted(group), printable(refusal)));
  }

 private:
  std::vector<std::string>& out_;
  std::set<std::string> warned_;
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
                      UnreadableMembers& unreadable, ExpandedGroups& out) {
  std::set<std::string>& members = out.members[service];
  std::set<std::string>& group_keys = out.groups[service];
  std::vector<Group> groups;
  std::set<std::string> seen;  // keys of the entries met (cycles end here)
  for (const std::string& dn : configured) {
    std::string key = dn_key(dn);
    auto values = reader.get(dn, key);
    if (!values) return service_error(service, values.error().message);
    // Skipping a configured group would take its permission from every member.
    if ((*values)->outcome == LdapRead::Outcome::no_entry)
      return service_error(service, quoted(dn) + ": no such entry");
    if ((*values)->outcome == LdapRead::Outcome::refused)
      return service_error(service, quoted(dn) + ": " + printable((*values)->refusal));
    if (seen.insert(key).second) groups.push_back({dn, key});
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {  // groups grows while it is read
    group_keys.insert(groups[i].key);
    auto values = reader.get(groups[i].dn, groups[i].key);  // read above: from the cache
    if (!values) return service_error(service, values.error().message);
    for (const std::string& member : (*values)->values) {
      std::string key = dn_key(member);
      members.insert(key);
      if (!nested || user_keys.contains(key) || !seen.insert(key).second) continue;
      auto inner = reader.get(member, key);
      if (!inner) return service_error(service, inner.error().message);
      if ((*inner)->outcome == LdapRead::Outcome::refused) {
        unreadable.add(key, member, groups[i].dn, (*inner)->refusal);
        continue;
      }
      // No entry (or none the account may see) or no members (or none it
      // may read): no group.
      if ((*inner)->outcome == LdapRead::Outcome::no_entry || (*inner)->values.empty()) continue;
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
  UnreadableMembers unreadable(out.warnings);
  for (const auto& [service, dns] : groups)
    if (Status expanded = expand_service(service, dns, user_keys, nested, reader, unreadable, out);
        !expanded)
      return expanded.error();
  unreadable.finish();
  out.reads = reader.reads();
  return out;
}

}  // namespace bh::directory
