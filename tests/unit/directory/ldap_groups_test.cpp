// Nested groups (directory/ldap_groups.hpp) and send-on-behalf links
// (directory/ldap_delegations.hpp) without a server: the directory is a
// map of DN -> member values that the reader answers from, and counts the
// reads. The same against a real slapd: tests/integration/test_ldap_sync.py.
#include <gtest/gtest.h>

#include "directory/ldap_delegations.hpp"
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
// in it does not exist.
struct Directory {
  std::map<std::string, std::vector<std::string>> entries;
  std::vector<std::string> reads;

  MemberReader reader() {
    return [this](const std::string& name) -> Result<std::optional<std::vector<std::string>>> {
      reads.push_back(name);
      auto found = entries.find(name);
      if (found == entries.end()) return std::optional<std::vector<std::string>>{};
      return std::optional<std::vector<std::string>>(found->second);
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
  MemberReader failing = [](const std::string&) -> Result<std::optional<std::vector<std::string>>> {
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

User mailbox(const std::string& address) {
  User u;
  u.address = address;
  return u;
}

TEST(LdapDelegations, ForwardAndBackLinksBecomeSendAsOfTheDelegate) {
  std::vector<User> users{mailbox("alice@contoso.test"), mailbox("bob@contoso.test"),
                          mailbox("accounts@contoso.test"), mailbox("sales@contoso.test")};
  std::vector<std::string> dns{user("alice"), user("bob"), user("accounts"), user("sales")};
  std::vector<LdapLinks> links(4);
  links[2].delegates = {"CN=Alice,OU=People,DC=contoso,DC=test"};  // spelt otherwise
  links[1].send_as_of = {user("sales"), user("accounts")};
  links[3].delegates = {user("bob")};  // the same as bob's back-link: once
  LdapAttributes names;
  auto warnings = resolve_send_as(users, dns, links, names);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(users[0].send_as, std::vector<std::string>{"accounts@contoso.test"});
  EXPECT_EQ(users[1].send_as,
            (std::vector<std::string>{"sales@contoso.test", "accounts@contoso.test"}));
  EXPECT_TRUE(users[2].send_as.empty());
  EXPECT_TRUE(users[3].send_as.empty());
}

TEST(LdapDelegations, ADnThatIsNoSyncedUserIsIgnoredWithAWarningNamingIt) {
  std::vector<User> users{mailbox("alice@contoso.test"), mailbox("accounts@contoso.test")};
  std::vector<std::string> dns{user("alice"), user("accounts")};
  std::vector<LdapLinks> links(2);
  links[1].delegates = {user("ghost"), user("alice")};
  links[0].send_as_of = {user("elsewhere")};
  users[0].send_as = {"stale@contoso.test"};  // replaced, not added to
  LdapAttributes names;
  auto warnings = resolve_send_as(users, dns, links, names);
  EXPECT_EQ(users[0].send_as, std::vector<std::string>{"accounts@contoso.test"});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[1], "\"" + user("accounts") + "\": publicDelegates: \"" + user("ghost") +
                             "\" is not among the synced users; that delegation is ignored");
  EXPECT_EQ(warnings[0], "\"" + user("alice") + "\": publicDelegatesBL: \"" + user("elsewhere") +
                             "\" is not among the synced users; that delegation is ignored");
}

TEST(LdapDelegations, WarningsAreCountedPastTheirLimit) {
  std::vector<User> users{mailbox("accounts@contoso.test")};
  std::vector<std::string> dns{user("accounts")};
  std::vector<LdapLinks> links(1);
  for (std::size_t i = 0; i < kLdapMaxDelegationWarnings + 3; ++i)
    links[0].delegates.push_back(user("gone" + std::to_string(i)));
  auto warnings = resolve_send_as(users, dns, links, LdapAttributes{});
  ASSERT_EQ(warnings.size(), kLdapMaxDelegationWarnings + 1);
  EXPECT_EQ(warnings.back(),
            "3 more delegation(s) to DNs that are not among the synced users are ignored");
}

}  // namespace
}  // namespace bh::directory
