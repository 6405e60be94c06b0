// [directory] and an inbound connector's directory_tenants in the
// configuration (docs/configuration.md).
#include <gtest/gtest.h>

#include "server/config.hpp"

namespace {

const std::string kBase = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["example.test"]
connector = "out"

[[connector]]
name = "out"
type = "discard"
)";

std::string error_of(const std::string& extra) {
  auto config = bh::parse_config(kBase + extra, "gw.toml");
  return config ? "(accepted)" : config.error().message;
}

}  // namespace

TEST(DirectoryConfig, ReadsRegionRefreshAndStaleness) {
  auto config = bh::parse_config(kBase + R"(
[directory]
database = "var/dir.db"
default_region = "DE"
refresh_interval = 250
max_stale = 10
)",
                                 "gw.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->store.path, "var/dir.db");
  EXPECT_EQ(config->directory.default_region, "DE");
  EXPECT_EQ(config->directory.refresh_ms, 250);
  EXPECT_EQ(config->directory.max_stale_seconds, 10);

  auto defaults = bh::parse_config(kBase, "gw.toml");
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->directory.default_region, "");
  EXPECT_EQ(defaults->directory.refresh_ms, 1000);
  EXPECT_EQ(defaults->directory.max_stale_seconds, 30);
}

TEST(DirectoryConfig, RefusesBadValues) {
  struct Case {
    std::string toml;
    std::string error;
  };
  const Case cases[] = {
      {"[directory]\ndefault_region = \"XX\"\n", "default_region"},
      {"[directory]\ndefault_region = \"de\"\n", "is not a region libphonenumber knows"},
      {"[directory]\nrefresh_interval = 10\n", "refresh_interval"},
      {"[directory]\nmax_stale = 0\n", "max_stale"},
      {"[directory]\nrefresh_interval = 5000\nmax_stale = 5\n",
       "max_stale (5 s) must be longer than refresh_interval (5000 ms)"},
      {"[directory]\nrefresh = 5\n", "refresh"},  // unknown key
  };
  for (const Case& c : cases) {
    std::string error = error_of(c.toml);
    EXPECT_NE(error.find(c.error), std::string::npos) << c.toml << "\n" << error;
    EXPECT_NE(error, "(accepted)") << c.toml;
  }
}

TEST(DirectoryConfig, Microsoft365ConnectorMayAcceptTheDirectorysTenants) {
  const std::string connector = R"(
[tls]
certificate = "cert.pem"
private_key = "key.pem"
request_client_certificate = true
client_ca_file = "ca.pem"

[[inbound_connector]]
name = "exo"
kind = "microsoft365"
certificate_names = ["mail.protection.outlook.com"]
services = ["fax"]
)";
  EXPECT_NE(error_of(connector).find("tenants"), std::string::npos);
  auto config = bh::parse_config(kBase + connector + "directory_tenants = true\n", "gw.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->trust.connectors.at(0).directory_tenants);
  EXPECT_TRUE(config->trust.connectors.at(0).tenants.empty());
}
