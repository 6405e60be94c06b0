// Send-on-behalf links (directory/ldap_delegations.hpp) without a server:
// DNs resolved among the synced users, what is ignored and warned about.
// The same against a real slapd: tests/integration/test_ldap_nesting.py.
#include <gtest/gtest.h>

#include "directory/ldap_delegations.hpp"
#include "directory/validate.hpp"

namespace bh::directory {
namespace {

std::string user(const std::string& cn) {
  return "cn=" + cn + ",ou=people,dc=contoso,dc=test";
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
  // By address, as the directory keeps them.
  EXPECT_EQ(users[1].send_as,
            (std::vector<std::string>{"accounts@contoso.test", "sales@contoso.test"}));
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

TEST(LdapDelegations, ADelegateOfMoreMailboxesThanTheLimitKeepsTheFirstAndIsWarnedAbout) {
  // Validation refuses a user with more than DirectoryLimits::send_as:
  // under on_error = "skip" the delegate would be dropped, under "abort"
  // every sync would fail.
  std::size_t mailboxes = DirectoryLimits::send_as + 2;
  std::vector<User> users{mailbox("bob@contoso.test")};
  std::vector<std::string> dns{user("bob")};
  std::vector<LdapLinks> links(1);
  // Returned by the server in reverse order: what is kept does not depend on it.
  for (std::size_t i = mailboxes; i-- > 0;) {
    std::string name = "m" + std::string(i < 10 ? "00" : i < 100 ? "0" : "") + std::to_string(i);
    users.push_back(mailbox(name + "@contoso.test"));
    dns.push_back(user(name));
    links.push_back({{user("bob")}, {}, false});  // each mailbox names bob
  }
  auto warnings = resolve_send_as(users, dns, links, LdapAttributes{});
  ASSERT_EQ(users[0].send_as.size(), DirectoryLimits::send_as);
  EXPECT_EQ(users[0].send_as.front(), "m000@contoso.test");
  EXPECT_EQ(users[0].send_as.back(),
            "m" + std::to_string(DirectoryLimits::send_as - 1) + "@contoso.test");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "\"" + user("bob") + "\": may send for " + std::to_string(mailboxes) +
                             " mailboxes; the first " + std::to_string(DirectoryLimits::send_as) +
                             " are kept, the other 2 (from \"m" +
                             std::to_string(DirectoryLimits::send_as) +
                             "@contoso.test\") are ignored");
  // What is kept passes the directory's checks.
  users[0].tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
  std::vector<FieldError> errors = normalise_user(users[0], "", NormaliseOptions{});
  EXPECT_TRUE(errors.empty()) << errors.front().field << ": " << errors.front().message;
}

TEST(LdapDelegations, ADelegateThatIsAGroupIsIgnoredWithOneWarning) {
  // publicDelegates may name a mail-enabled security group (found by the
  // search, so it is a synced entry); AD also writes the back-link on the
  // group. A group is the mailbox sent for: that counts.
  std::vector<User> users{mailbox("accounts@contoso.test"), mailbox("team@contoso.test"),
                          mailbox("alice@contoso.test")};
  std::vector<std::string> dns{user("accounts"), user("team"), user("alice")};
  std::vector<LdapLinks> links(3);
  links[0].delegates = {user("team")};
  links[1].group = true;
  links[1].send_as_of = {user("accounts")};
  links[1].delegates = {user("alice")};  // send on behalf of the group
  auto warnings = resolve_send_as(users, dns, links, LdapAttributes{});
  EXPECT_TRUE(users[1].send_as.empty());
  EXPECT_EQ(users[2].send_as, std::vector<std::string>{"team@contoso.test"});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "\"" + user("accounts") + "\": publicDelegates: \"" + user("team") +
                             "\": the delegate is a group; a delegation to a group is not "
                             "expanded to its members and is ignored");
}

}  // namespace
}  // namespace bh::directory
