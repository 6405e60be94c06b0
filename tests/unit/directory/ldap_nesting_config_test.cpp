// The [[directory.ldap]] keys of nested groups and send-on-behalf
// delegations (server/config_ldap.cpp): defaults, values read, mistakes
// named by key. The rest of the source's keys: ldap_config_test.cpp.
#include <gtest/gtest.h>

#include "server/config.hpp"

namespace bh {
namespace {

constexpr std::string_view kConfig = R"(
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

[[directory.ldap]]
tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
url = "ldaps://dc1.contoso.test"
bind_dn = "cn=sync,dc=contoso,dc=test"
password_file = "ldap-password"
base_dn = "ou=People,dc=contoso,dc=test"
)";

Result<Config> parse(std::string_view more) {
  return parse_config(std::string(kConfig) + std::string(more), "test.toml");
}

TEST(LdapNestingConfig, NestedGroupsAndBothDelegationAttributesByDefault) {
  auto config = parse("");
  ASSERT_TRUE(config) << config.error().message;
  const directory::LdapSource& s = config->directory.ldap.at(0);
  EXPECT_TRUE(s.nested_groups);
  EXPECT_EQ(s.attributes.delegates, "publicDelegates");
  EXPECT_EQ(s.attributes.send_as_of, "publicDelegatesBL");
}

TEST(LdapNestingConfig, TheKeysAreRead) {
  auto config = parse(R"(nested_groups = false

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
  auto config = parse(R"(nested_groups = "yes"

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
