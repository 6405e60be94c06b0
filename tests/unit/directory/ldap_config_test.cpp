// [[directory.ldap]] in the configuration (server/config_ldap.cpp): values
// land in DirectorySettings::ldap (nested groups and delegations too),
// mistakes name file, line and key.
#include <gtest/gtest.h>

#include "server/config.hpp"

namespace bh {
namespace {

constexpr std::string_view kBase = R"(
[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["example.test"]
connector = "files"

[[connector]]
name = "files"
type = "file"
directory = "out"
)";

Result<Config> parse(std::string_view ldap) {
  return parse_config(std::string(kBase) + std::string(ldap), "test.toml");
}

TEST(LdapConfig, EveryKeyIsRead) {
  auto config = parse(R"toml(
[[directory.ldap]]
tenant = "4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B"
tenant_name = "Contoso"
domains = ["Contoso.test"]
url = "ldap://dc1.contoso.test"
starttls = true
ca_file = "ca.pem"
bind_dn = "cn=sync,dc=contoso,dc=test"
password_file = "ldap-password"
base_dn = "ou=People,dc=contoso,dc=test"
filter = "(objectClass=inetOrgPerson)"
page_size = 1000
timeout = 5
interval = 600
on_error = "skip"
allow_empty = true

[directory.ldap.attributes]
mail = "userPrincipalName"
member_of = ""

[directory.ldap.groups]
fax = "cn=Fax,dc=contoso,dc=test"
sms = ["cn=SMS,dc=contoso,dc=test", "cn=Field,dc=contoso,dc=test"]
)toml");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->directory.ldap.size(), 1u);
  const directory::LdapSource& s = config->directory.ldap[0];
  EXPECT_EQ(s.tenant, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(s.tenant_name, "Contoso");
  EXPECT_EQ(s.domains, std::vector<std::string>{"contoso.test"});
  EXPECT_TRUE(s.starttls);
  EXPECT_EQ(s.page_size, 1000);
  EXPECT_EQ(s.timeout_seconds, 5);
  EXPECT_EQ(s.interval_seconds, 600);
  EXPECT_EQ(s.on_error, directory::LdapOnError::skip);
  EXPECT_TRUE(s.allow_empty);
  EXPECT_EQ(s.attributes.mail, "userPrincipalName");
  EXPECT_EQ(s.attributes.member_of, "");
  EXPECT_EQ(s.attributes.fax, "facsimileTelephoneNumber");  // the default stays
  EXPECT_EQ(s.groups.at("fax"), std::vector<std::string>{"cn=Fax,dc=contoso,dc=test"});
  EXPECT_EQ(s.groups.at("sms").size(), 2u);
}

TEST(LdapConfig, MistakesNameTheKey) {
  auto config = parse(R"(
[[directory.ldap]]
tenant = "not-a-guid"
url = "http://dc1"
base_dn = "dc=x"
filter = "objectClass=user"
colour = "blue"

[directory.ldap.attributes]
mail = "has space"

[directory.ldap.groups]
fax = []
)");
  ASSERT_FALSE(config);
  const std::string& m = config.error().message;
  for (const char* part :
       {"directory.ldap[0].tenant: 'not-a-guid' is not a tenant id",
        "directory.ldap[0].url: \"http://dc1\" must start with ldap:// or ldaps://",
        "directory.ldap[0].bind_dn: required key is missing",
        "directory.ldap[0].password_file: required key is missing",
        "directory.ldap[0].filter: \"objectClass=user\" is not an LDAP filter",
        "directory.ldap[0].colour: unknown key",
        "directory.ldap[0].attributes.mail: \"has space\" is not an attribute name",
        "directory.ldap[0].groups.fax: must be a group DN or a non-empty list of group DNs"})
    EXPECT_NE(m.find(part), std::string::npos) << part << "\n" << m;
}

TEST(LdapConfig, OneSourcePerTenant) {
  std::string source = R"(
[[directory.ldap]]
tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
url = "ldaps://dc1"
bind_dn = "cn=a"
password_file = "p"
base_dn = "dc=x"
)";
  auto config = parse(source + source);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("has a [[directory.ldap]] source already"),
            std::string::npos)
      << config.error().message;
}

// ldap:// without StartTLS would send the bind password in clear: refused
// at load with the file and line, unless the source allows it.
TEST(LdapConfig, PlainLdapNeedsAllowPlaintext) {
  std::string source = R"(
[[directory.ldap]]
tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
url = "ldap://dc1"
bind_dn = "cn=a"
password_file = "p"
base_dn = "dc=x"
)";
  auto refused = parse(source);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("test.toml:"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find(
                "directory.ldap[0].url: \"ldap://dc1\" would send the bind password in clear"),
            std::string::npos)
      << refused.error().message;
  auto allowed = parse(source + "allow_plaintext = true\n");
  ASSERT_TRUE(allowed) << allowed.error().message;
  EXPECT_TRUE(allowed->directory.ldap[0].allow_plaintext);
  auto upgraded = parse(source + "starttls = true\n");
  ASSERT_TRUE(upgraded) << upgraded.error().message;
  EXPECT_FALSE(upgraded->directory.ldap[0].allow_plaintext);
}

// The keys of nested groups and send-on-behalf delegations, over one
// complete source.
constexpr std::string_view kSource = R"(
[[directory.ldap]]
tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
url = "ldaps://dc1.contoso.test"
bind_dn = "cn=sync,dc=contoso,dc=test"
password_file = "ldap-password"
base_dn = "ou=People,dc=contoso,dc=test"
)";

Result<Config> parse_source(std::string_view more) {
  return parse(std::string(kSource) + std::string(more));
}

TEST(LdapNestingConfig, NestedGroupsAndBothDelegationAttributesByDefault) {
  auto config = parse_source("");
  ASSERT_TRUE(config) << config.error().message;
  const directory::LdapSource& s = config->directory.ldap.at(0);
  EXPECT_TRUE(s.nested_groups);
  EXPECT_EQ(s.attributes.delegates, "publicDelegates");
  EXPECT_EQ(s.attributes.send_as_of, "publicDelegatesBL");
}

TEST(LdapNestingConfig, TheKeysAreRead) {
  auto config = parse_source(R"(nested_groups = false

[directory.ldap.attributes]
delegates = ""
send_as_of = "msExchDelegateListBL"
)");
  ASSERT_TRUE(config) << config.error().message;
  const directory::LdapSource& s = config->directory.ldap.at(0);
  EXPECT_FALSE(s.nested_groups);
  EXPECT_EQ(s.attributes.delegates, "");  // "": not read
  EXPECT_EQ(s.attributes.send_as_of, "msExchDelegateListBL");
}

TEST(LdapNestingConfig, MistakesNameTheKey) {
  auto config = parse_source(R"(nested_groups = "yes"

[directory.ldap.attributes]
delegates = "public delegates"
)");
  ASSERT_FALSE(config);
  const std::string& m = config.error().message;
  for (const char* part : {"directory.ldap[0].nested_groups:",
                           "directory.ldap[0].attributes.delegates: \"public delegates\" is not an "
                           "attribute name (\"\" : not read)"})
    EXPECT_NE(m.find(part), std::string::npos) << part << "\n" << m;
}

}  // namespace
}  // namespace bh
