// From LDAP entries to users (directory/ldap_users.hpp) and the pieces of
// the LDAP client that need no server (DN keys, AD's ranged attributes).
// The sync against a real slapd is tests/integration/test_ldap_sync.py (nested
// groups and delegations: test_ldap_nesting.py).
#include "directory/ldap_users.hpp"

#include <gtest/gtest.h>

namespace bh::directory {
namespace {

constexpr const char* kTenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
constexpr const char* kFaxGroup = "CN=Fax Users,OU=Groups,DC=contoso,DC=test";

LdapEntry entry(std::string dn, std::map<std::string, std::vector<std::string>> attributes) {
  return LdapEntry{std::move(dn), std::move(attributes)};
}

LdapSource source_with_fax_group() {
  LdapSource source;
  source.tenant = kTenant;
  source.groups["fax"] = {kFaxGroup};
  return source;
}

TEST(LdapUsers, MailIsThePrimaryAndSmtpProxyAddressesAreAliases) {
  auto found = map_ldap_entries(
      {entry("CN=Alice,OU=People,DC=contoso,DC=test",
             {{"mail", {"Alice@contoso.test"}},
              {"proxyaddresses",
               {"SMTP:Alice@contoso.test", "smtp:a@contoso.test", "X500:/o=Contoso/cn=alice",
                "SIP:alice@contoso.test", "smtp:alice.smith@contoso.test"}},
              {"displayname", {"Alice Smith"}},
              {"facsimiletelephonenumber", {"+49 30 1234567"}},
              {"mobile", {"+49 151 23456789"}}})},
      LdapSource{}, {});
  ASSERT_TRUE(found.problems.empty());
  ASSERT_EQ(found.users.size(), 1u);
  const User& user = found.users[0].user;
  EXPECT_EQ(user.address, "Alice@contoso.test");  // normalised later, by normalise_user
  EXPECT_EQ(user.aliases, (std::vector<std::string>{"a@contoso.test", "alice.smith@contoso.test"}));
  EXPECT_EQ(user.display_name, "Alice Smith");
  EXPECT_EQ(user.fax_numbers, std::vector<std::string>{"+49 30 1234567"});
  EXPECT_EQ(user.mobile_numbers, std::vector<std::string>{"+49 151 23456789"});
  EXPECT_EQ(found.users[0].dn, "CN=Alice,OU=People,DC=contoso,DC=test");
}

TEST(LdapUsers, WithoutMailTheUpperCaseSmtpEntryIsThePrimary) {
  auto found = map_ldap_entries(
      {entry("cn=bob", {{"proxyaddresses", {"smtp:b@contoso.test", "SMTP:bob@contoso.test"}}})},
      LdapSource{}, {});
  ASSERT_EQ(found.users.size(), 1u);
  EXPECT_EQ(found.users[0].user.address, "bob@contoso.test");
  EXPECT_EQ(found.users[0].user.aliases, std::vector<std::string>{"b@contoso.test"});
}

TEST(LdapUsers, AMailThatDiffersFromTheSmtpPrimaryKeepsBoth) {
  auto found = map_ldap_entries({entry("cn=carol", {{"mail", {"carol@contoso.test"}},
                                                    {"proxyaddresses", {"SMTP:c@contoso.test"}}})},
                                LdapSource{}, {});
  ASSERT_EQ(found.users.size(), 1u);
  EXPECT_EQ(found.users[0].user.address, "carol@contoso.test");
  EXPECT_EQ(found.users[0].user.aliases, std::vector<std::string>{"c@contoso.test"});
}

TEST(LdapUsers, AnEntryWithoutAnyMailAddressIsAProblemNamingItsDn) {
  auto found = map_ldap_entries(
      {entry("cn=printer,ou=Devices", {{"proxyaddresses", {"X500:/o=x/cn=printer"}}})},
      LdapSource{}, {});
  EXPECT_TRUE(found.users.empty());
  ASSERT_EQ(found.problems.size(), 1u);
  EXPECT_EQ(found.problems[0].dn, "cn=printer,ou=Devices");
  EXPECT_NE(found.problems[0].message.find("no mail address"), std::string::npos);
}

TEST(LdapUsers, PermissionFromTheGroupsMemberAttributeWhateverTheDnsSpelling) {
  GroupMembers members;
  members["fax"].insert(dn_key("cn=alice, ou=people, dc=contoso, dc=test"));
  auto found = map_ldap_entries(
      {entry("CN=Alice,OU=People,DC=contoso,DC=test", {{"mail", {"alice@contoso.test"}}}),
       entry("CN=Bob,OU=People,DC=contoso,DC=test", {{"mail", {"bob@contoso.test"}}})},
      source_with_fax_group(), members);
  ASSERT_EQ(found.users.size(), 2u);
  EXPECT_EQ(found.users[0].user.permissions, std::vector<std::string>{"fax"});
  EXPECT_TRUE(found.users[1].user.permissions.empty());
}

TEST(LdapUsers, PermissionFromTheUsersMemberOfAlone) {
  auto found = map_ldap_entries(
      {entry("CN=Carol,OU=People,DC=contoso,DC=test",
             {{"mail", {"carol@contoso.test"}},
              {"memberof", {"cn=fax users,ou=groups,dc=contoso,dc=test", "CN=Other,DC=x"}}})},
      source_with_fax_group(), {});
  ASSERT_EQ(found.users.size(), 1u);
  EXPECT_EQ(found.users[0].user.permissions, std::vector<std::string>{"fax"});
}

TEST(LdapUsers, MemberOfIsIgnoredWhenItsAttributeNameIsEmpty) {
  LdapSource source = source_with_fax_group();
  source.attributes.member_of = "";
  auto found =
      map_ldap_entries({entry("CN=Carol,DC=contoso,DC=test",
                              {{"mail", {"carol@contoso.test"}},
                               {"memberof", {"CN=Fax Users,OU=Groups,DC=contoso,DC=test"}}})},
                       source, {});
  ASSERT_EQ(found.users.size(), 1u);
  EXPECT_TRUE(found.users[0].user.permissions.empty());
}

TEST(LdapUsers, ConfiguredAttributeNamesAreRead) {
  LdapSource source;
  source.attributes.mail = "userPrincipalName";
  source.attributes.fax = "otherFacsimileTelephoneNumber";
  auto found =
      map_ldap_entries({entry("cn=dave", {{"userprincipalname", {"dave@contoso.test"}},
                                          {"mail", {"ignored@contoso.test"}},
                                          {"otherfacsimiletelephonenumber", {"+4930999"}}})},
                       source, {});
  ASSERT_EQ(found.users.size(), 1u);
  EXPECT_EQ(found.users[0].user.address, "dave@contoso.test");
  EXPECT_EQ(found.users[0].user.fax_numbers, std::vector<std::string>{"+4930999"});
}

TEST(LdapUsers, FieldsAreNamedByTheirAttributeInProblems) {
  LdapAttributes names;
  EXPECT_EQ(ldap_attribute_of("fax_numbers[1]", names), "facsimileTelephoneNumber");
  EXPECT_EQ(ldap_attribute_of("mobile_numbers[0]", names), "mobile");
  EXPECT_EQ(ldap_attribute_of("aliases[0]", names), "proxyAddresses");
  EXPECT_EQ(ldap_attribute_of("address", names), "mail");
  EXPECT_EQ(ldap_attribute_of("tenant", names), "tenant");
}

TEST(LdapClient, DnKeysCompareSpacingAndCase) {
  EXPECT_EQ(dn_key("CN=Fax Users, OU=Groups,DC=contoso,DC=test"),
            dn_key("cn=fax users,ou=groups,dc=contoso,dc=test"));
  EXPECT_NE(dn_key("cn=a,dc=test"), dn_key("cn=b,dc=test"));
}

TEST(LdapClient, ActiveDirectoryAttributeRanges) {
  AttributeRange range;
  ASSERT_TRUE(parse_attribute_range("member;range=0-1499", "member", range));
  EXPECT_EQ(range.end, 1499u);
  EXPECT_FALSE(range.last);
  ASSERT_TRUE(parse_attribute_range("Member;Range=1500-*", "member", range));
  EXPECT_TRUE(range.last);
  EXPECT_FALSE(parse_attribute_range("member", "member", range));
  EXPECT_FALSE(parse_attribute_range("memberof;range=0-10", "member", range));
  EXPECT_FALSE(parse_attribute_range("member;range=10-5", "member", range));
  EXPECT_FALSE(parse_attribute_range("member;range=-5", "member", range));
  EXPECT_FALSE(parse_attribute_range("member;range=0-x", "member", range));
}

}  // namespace
}  // namespace bh::directory
