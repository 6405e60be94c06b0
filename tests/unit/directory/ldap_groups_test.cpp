// Nested groups (directory/ldap_groups.hpp) without a server: the
// directory is a map of DN -> member values that the reader answers from,
// and counts the reads. The same against a real slapd:
// tests/integration/test_ldap_nesting.py. Delegations:
// ldap_delegations_test.cpp.
#include <gtest/gtest.h>

#include "directory/ldap_groups.hpp"
#include "directory/ldap_users.hpp"

namespace bh::directory {
namespace {

std::string dn(const std::string& cn) {
  return "cn=" + cn + ",ou=groups,dc=contoso,dc=test";
}

std::string user(const std::string& cn) {
  return "cn=" + cn + ",ou=people,dc=contoso,dc=test";
}

// A directory of entries with their member values; an entry that is not
// in it does not exist, one in refused is answered with that refusal (as
// LdapConnection::read_attribute answers a referral, code 10, or
// insufficient access, code 50).
struct Directory {
  std::map<std::string, std::vector<std::string>> entries;
  std::map<std::string, std::string> refused;
  std::vector<std::string> reads;

  MemberReader reader() {
    return [this](const std::string& name) -> Result<LdapRead> {
      reads.push_back(name);
      if (auto r = refused.find(name); r != refused.end())
        return LdapRead{LdapRead::Outcome::refused, {}, r->second};
      auto found = entries.find(name);
      if (found == entries.end()) return LdapRead{LdapRead::Outcome::no_entry, {}, ""};
      return LdapRead{LdapRead::Outcome::found, found->second, ""};
    };
  }
};

std::set<std::string> keys(std::initializer_list<std::string> dns) {
  std::set<std::string> out;
  for (const auto& d : dns) out.insert(dn_key(d));
  return out;
}

TEST(LdapGroups, MembersOfNestedGroupsTwoLevelsDownHaveThePermission) {
  Directory d;
  d.entries[dn("fax")] = {user("alice"), dn("sales")};
  d.entries[dn("sales")] = {user("bob"), dn("sales-berlin")};
  d.entries[dn("sales-berlin")] = {user("carol")};
  auto expanded = expand_groups(
      {{"fax", {dn("fax")}}}, keys({user("alice"), user("bob"), user("carol")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  const auto& members = expanded->members.at("fax");
  for (const char* cn : {"alice", "bob", "carol"})
    EXPECT_TRUE(members.contains(dn_key(user(cn)))) << cn;
  EXPECT_EQ(expanded->groups.at("fax"), keys({dn("fax"), dn("sales"), dn("sales-berlin")}));
  // The synced users are never read; each group once.
  EXPECT_EQ(d.reads, (std::vector<std::string>{dn("fax"), dn("sales"), dn("sales-berlin")}));
  EXPECT_EQ(expanded->reads, 3u);
}

TEST(LdapGroups, WithoutNestingOnlyTheConfiguredGroupIsRead) {
  Directory d;
  d.entries[dn("fax")] = {user("alice"), dn("sales")};
  d.entries[dn("sales")] = {user("bob")};
  auto expanded =
      expand_groups({{"fax", {dn("fax")}}}, keys({user("alice"), user("bob")}), false, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_EQ(expanded->members.at("fax"), keys({user("alice"), dn("sales")}));
  EXPECT_EQ(expanded->groups.at("fax"), keys({dn("fax")}));
  EXPECT_EQ(d.reads, std::vector<std::string>{dn("fax")});
}

TEST(LdapGroups, ACycleEndsAndEveryMemberOfItCounts) {
  Directory d;
  d.entries[dn("a")] = {dn("b"), user("alice")};
  d.entries[dn("b")] = {dn("c")};
  d.entries[dn("c")] = {dn("a"), user("bob")};  // back to the configured group
  auto expanded = expand_groups({{"fax", {dn("a")}}, {"sms", {dn("b")}}},
                                keys({user("alice"), user("bob")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  for (const char* service : {"fax", "sms"}) {
    EXPECT_TRUE(expanded->members.at(service).contains(dn_key(user("alice")))) << service;
    EXPECT_TRUE(expanded->members.at(service).contains(dn_key(user("bob")))) << service;
    EXPECT_EQ(expanded->groups.at(service), keys({dn("a"), dn("b"), dn("c")})) << service;
  }
  EXPECT_EQ(d.reads.size(), 3u) << "each group is read once, for both services";
}

TEST(LdapGroups, AConfiguredGroupThatDoesNotExistIsAnErrorNamingIt) {
  Directory d;
  d.entries[dn("fax")] = {user("alice")};
  auto expanded =
      expand_groups({{"fax", {dn("fax"), dn("gone")}}}, keys({user("alice")}), true, d.reader());
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().message,
            "group of service fax: \"cn=gone,ou=groups,dc=contoso,dc=test\": no such entry");
}

TEST(LdapGroups, MembersThatAreNoGroupAreReadButAddNothing) {
  // A member that is no synced user (a disabled account, a contact) is read
  // once: no entry, or one without members, is a plain member.
  Directory d;
  d.entries[dn("fax")] = {user("alice"), user("disabled"), user("dangling")};
  d.entries[user("disabled")] = {};
  auto expanded = expand_groups({{"fax", {dn("fax")}}}, keys({user("alice")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_EQ(expanded->groups.at("fax"), keys({dn("fax")}));
  EXPECT_EQ(expanded->members.at("fax"), keys({user("alice"), user("disabled"), user("dangling")}));
  EXPECT_EQ(d.reads.size(), 3u);
}

// A chain g0 > g1 > ... > g<levels>, the last one holding alice.
Directory chain_of(std::size_t levels) {
  Directory d;
  for (std::size_t i = 0; i < levels; ++i)
    d.entries[dn("g" + std::to_string(i))] = {dn("g" + std::to_string(i + 1))};
  d.entries[dn("g" + std::to_string(levels))] = {user("alice")};
  return d;
}

TEST(LdapGroups, NestingUpToTheLimitIsFollowed) {
  Directory d = chain_of(kLdapMaxGroupDepth);
  auto expanded = expand_groups({{"fax", {dn("g0")}}}, keys({user("alice")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_TRUE(expanded->members.at("fax").contains(dn_key(user("alice"))));
}

TEST(LdapGroups, NestingDeeperThanTheLimitIsAnErrorNamingTheChain) {
  Directory d = chain_of(kLdapMaxGroupDepth + 1);
  auto expanded = expand_groups({{"fax", {dn("g0")}}}, keys({user("alice")}), true, d.reader());
  ASSERT_FALSE(expanded);
  std::string chain;
  for (std::size_t i = 0; i <= kLdapMaxGroupDepth + 1; ++i)
    chain += (i ? " > \"" : "\"") + dn("g" + std::to_string(i)) + "\"";
  EXPECT_EQ(expanded.error().message, "group of service fax: " + chain + ": nested more than " +
                                          std::to_string(kLdapMaxGroupDepth) + " levels deep");
}

TEST(LdapGroups, TheDepthIsThatOfTheShortestChain) {
  // g0 holds the deep chain and, directly, its last group: found one level
  // down first, that group is no error.
  Directory d = chain_of(kLdapMaxGroupDepth + 1);
  d.entries[dn("g0")].push_back(dn("g" + std::to_string(kLdapMaxGroupDepth + 1)));
  auto expanded = expand_groups({{"fax", {dn("g0")}}}, keys({user("alice")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_TRUE(expanded->members.at("fax").contains(dn_key(user("alice"))));
}

TEST(LdapGroups, AFailedReadIsAnErrorOfItsService) {
  MemberReader failing = [](const std::string&) -> Result<LdapRead> {
    return Error{"ldap://dc1: read \"cn=fax\": Server is unavailable (52)"};
  };
  auto expanded = expand_groups({{"fax", {dn("fax")}}}, {}, true, failing);
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().message,
            "group of service fax: ldap://dc1: read \"cn=fax\": Server is unavailable (52)");
}

TEST(LdapGroups, TheReadsAreBounded) {
  Directory d;
  auto& members = d.entries[dn("fax")];
  for (std::size_t i = 0; i < kLdapMaxGroupReads; ++i) members.push_back(user(std::to_string(i)));
  auto expanded = expand_groups({{"fax", {dn("fax")}}}, {}, true, d.reader());
  ASSERT_FALSE(expanded);
  EXPECT_NE(expanded.error().message.find("more than " + std::to_string(kLdapMaxGroupReads) +
                                          " entries to read"),
            std::string::npos)
      << expanded.error().message;
  EXPECT_EQ(d.reads.size(), kLdapMaxGroupReads);
}

TEST(LdapGroups, AMemberOfNamingANestedGroupGivesItsServicesPermission) {
  // memberOf lists a user's direct groups only (AD, slapd's overlay): the
  // nested groups found from the groups' side are matched too.
  LdapSource source;
  source.groups["fax"] = {dn("fax")};
  GroupMembers nested;
  nested["fax"] = keys({dn("fax"), dn("sales-berlin")});
  LdapEntry carol{user("carol"),
                  {{"mail", {"carol@contoso.test"}}, {"memberof", {dn("sales-berlin")}}}};
  EXPECT_EQ(map_ldap_entries({carol}, source, {}, nested).users.at(0).user.permissions,
            std::vector<std::string>{"fax"});
  EXPECT_TRUE(map_ldap_entries({carol}, source, {}).users.at(0).user.permissions.empty());
}

TEST(LdapGroups, NestedMembersBehindAReferralOrNoAccessArePlainMembersWithAWarning) {
  // A universal group with members from another domain of the forest: AD
  // answers a read of theirs with a referral (not followed); a member the
  // account may not read: insufficient access. Neither stops the sync.
  Directory d;
  std::string remote = "cn=zed,ou=people,dc=fabrikam,dc=test";
  d.entries[dn("fax")] = {user("alice"), remote, user("hidden"), dn("sales")};
  d.entries[dn("sales")] = {user("bob")};
  d.refused[remote] = "Referral (10), to ldap://fabrikam.test/cn=zed,ou=people,dc=fabrikam,dc=test";
  d.refused[user("hidden")] = "Insufficient access (50)";
  auto expanded =
      expand_groups({{"fax", {dn("fax")}}}, keys({user("alice"), user("bob")}), true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_EQ(expanded->members.at("fax"),
            keys({user("alice"), remote, user("hidden"), dn("sales"), user("bob")}));
  EXPECT_EQ(expanded->groups.at("fax"), keys({dn("fax"), dn("sales")}));
  ASSERT_EQ(expanded->warnings.size(), 2u);
  EXPECT_EQ(expanded->warnings[0],
            "\"" + remote + "\" (a member of \"" + dn("fax") +
                "\") cannot be read: Referral (10), to ldap://fabrikam.test/" + remote +
                "; it counts as a plain member (groups nested in it are not followed)");
  EXPECT_EQ(expanded->warnings[1], "\"" + user("hidden") + "\" (a member of \"" + dn("fax") +
                                       "\") cannot be read: Insufficient access (50); it counts "
                                       "as a plain member (groups nested in it are not followed)");
}

TEST(LdapGroups, AConfiguredGroupThatIsRefusedIsAnError) {
  // Skipping it would take the permission from every member.
  Directory d;
  d.refused[dn("fax")] = "Insufficient access (50)";
  auto expanded = expand_groups({{"fax", {dn("fax")}}}, {}, true, d.reader());
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().message,
            "group of service fax: \"" + dn("fax") + "\": Insufficient access (50)");
}

TEST(LdapGroups, UnreadableMemberWarningsAreEachDnOnceAndBounded) {
  Directory d;
  std::vector<std::string> remote;
  for (std::size_t i = 0; i < kLdapMaxUnreadableMemberWarnings + 2; ++i) {
    remote.push_back("cn=r" + std::to_string(i) + ",dc=fabrikam,dc=test");
    d.refused[remote.back()] = "Referral (10)";
  }
  d.entries[dn("fax")] = remote;
  d.entries[dn("sms")] = {remote[0], dn("fax")};  // met again, in another service and group
  auto expanded = expand_groups({{"fax", {dn("fax")}}, {"sms", {dn("sms")}}}, {}, true, d.reader());
  ASSERT_TRUE(expanded) << expanded.error().message;
  ASSERT_EQ(expanded->warnings.size(), kLdapMaxUnreadableMemberWarnings + 1);
  EXPECT_EQ(expanded->warnings.front().rfind("\"" + remote[0] + "\" (a member of", 0), 0u)
      << expanded->warnings.front();
  EXPECT_EQ(expanded->warnings.back(),
            "2 more group member(s) that cannot be read count as plain members");
  EXPECT_EQ(expanded->reads, remote.size() + 2) << "each DN is read once";
  EXPECT_TRUE(expanded->members.at("sms").contains(dn_key(remote.back())));
}

TEST(LdapGroups, AnEntryWithMemberValuesIsAGroup) {
  LdapAttributes names;
  EXPECT_TRUE(is_group_entry({dn("sales"), {{"member", {user("bob")}}}}, names));
  // AD names a large attribute in a search result by its first range.
  EXPECT_TRUE(is_group_entry({dn("sales"), {{"member;range=0-1499", {user("bob")}}}}, names));
  EXPECT_FALSE(is_group_entry({user("bob"), {{"mail", {"bob@contoso.test"}}}}, names));
  EXPECT_FALSE(is_group_entry({dn("empty"), {{"member", {}}}}, names));
  names.member = "uniqueMember";
  EXPECT_TRUE(is_group_entry({dn("sales"), {{"uniquemember", {user("bob")}}}}, names));
  EXPECT_FALSE(is_group_entry({dn("sales"), {{"member", {user("bob")}}}}, names));
}

TEST(LdapGroups, AMailEnabledGroupTheSearchFoundGetsNoPermissionItself) {
  // It stays a synced entry (its address), but it is no mailbox that
  // sends: its members have the permission, through the expansion.
  LdapSource source;
  source.groups["fax"] = {dn("fax")};
  GroupMembers members;
  members["fax"] = keys({dn("sales"), user("bob")});
  LdapEntry sales{
      dn("sales"),
      {{"mail", {"sales@contoso.test"}}, {"member", {user("bob")}}, {"memberof", {dn("fax")}}}};
  LdapEntry bob{user("bob"), {{"mail", {"bob@contoso.test"}}}};
  GroupMembers groups{{"fax", keys({dn("fax"), dn("sales")})}};
  auto found = map_ldap_entries({sales, bob}, source, members, groups);
  ASSERT_EQ(found.users.size(), 2u);
  EXPECT_EQ(found.users[0].user.address, "sales@contoso.test");
  EXPECT_TRUE(found.users[0].user.permissions.empty());
  EXPECT_TRUE(found.users[0].links.group);
  EXPECT_EQ(found.users[1].user.permissions, std::vector<std::string>{"fax"});
  EXPECT_FALSE(found.users[1].links.group);
}

}  // namespace
}  // namespace bh::directory
