#include <gtest/gtest.h>

#include "server/config.hpp"

using bh::parse_config;

namespace {
const std::string kValid = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[limits]
recipients = 50

[[route]]
domains = ["Example.TEST", "*.example.org"]
connector = "out"

[[connector]]
name = "out"
type = "discard"
)";
}  // namespace

TEST(Config, QuickstartIsValid) {
  bh::Config config = bh::quickstart_config();
  EXPECT_EQ(config.listeners.at(0).port, 2525);
  EXPECT_TRUE(config.tls->generate_self_signed);
}

TEST(Config, ReadsValues) {
  auto config = parse_config(kValid, "gw.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->hostname, "gw.example");
  EXPECT_EQ(config->limits.recipients, 50u);
  EXPECT_EQ(config->routes.at(0).domains.at(0), "example.test");
  EXPECT_FALSE(config->listeners.at(0).starttls);
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  auto config = parse_config(kValid + "\n[queue]\ndirectroy = \"x\"\n", "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, "gw.toml:20: queue.directroy: unknown key");
}

TEST(Config, WrongTypeNamesKey) {
  std::string text = kValid;
  text.replace(text.find("recipients = 50"), 15, "recipients = \"many\"");
  auto config = parse_config(text, "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "gw.toml:9: limits.recipients: must be an integer from 1 to 100000");
}

TEST(Config, SyntaxErrorHasLine) {
  auto config = parse_config("[server]\nhostname = \n", "bad.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.rfind("bad.toml:2: syntax:", 0), 0u) << config.error().message;
}

TEST(Config, RouteToUndefinedConnector) {
  std::string text = kValid;
  text.replace(text.find("connector = \"out\""), 17, "connector = \"nowhere\"");
  auto config = parse_config(text, "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("connector \"nowhere\" is not defined"), std::string::npos);
}

TEST(Config, BadListenerAddress) {
  std::string text = kValid;
  text.replace(text.find("127.0.0.1:2525"), 14, "localhost");
  auto config = parse_config(text, "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "gw.toml:5: listener[0].address: must be IP:PORT, e.g. \"127.0.0.1:2525\"");
}

TEST(Config, CertificateConnectorNeedsClientCertificateRequest) {
  std::string text = kValid + R"(
[tls]
certificate = "c.pem"
private_key = "k.pem"

[[tenant]]
id = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
domains = ["contoso.test"]

[[inbound_connector]]
name = "exo"
kind = "microsoft365"
certificate_names = ["mail.protection.outlook.com"]
tenants = ["4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"]
)";
  auto config = parse_config(text, "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "gw.toml: inbound_connector exo: matches by certificate, so [tls] "
            "request_client_certificate must be true");
}

TEST(Config, Microsoft365ConnectorNeedsCertificateAndTenants) {
  std::string text = kValid + R"(
[[inbound_connector]]
name = "exo"
kind = "microsoft365"
ip_ranges = ["40.92.0.0/15"]
)";
  auto config = parse_config(text, "gw.toml");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("inbound_connector[0].certificate_names (a microsoft365 "
                                        "connector is identified by certificate)"),
            std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find("inbound_connector[0].tenants"), std::string::npos);
}

TEST(Config, TenantSenderCheck) {
  auto tenant = [](const std::string& extra) {
    return kValid +
           "\n[[tenant]]\nid = \"4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b\"\n"
           "domains = [\"contoso.test\"]\n" +
           extra;
  };
  auto plain = parse_config(tenant(""), "gw.toml");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->trust.tenants.at(0).sender_check, bh::SenderCheck::envelope_and_from);
  auto envelope = parse_config(tenant("sender_check = \"envelope\"\n"), "gw.toml");
  ASSERT_TRUE(envelope) << envelope.error().message;
  EXPECT_EQ(envelope->trust.tenants.at(0).sender_check, bh::SenderCheck::envelope);
  auto both = parse_config(tenant("sender_check = \"envelope_and_from\"\n"), "gw.toml");
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->trust.tenants.at(0).sender_check, bh::SenderCheck::envelope_and_from);
  auto unknown = parse_config(tenant("sender_check = \"from\"\n"), "gw.toml");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "gw.toml:22: tenant[0].sender_check: must be \"envelope_and_from\" or \"envelope\"");
  auto wrong_type = parse_config(tenant("sender_check = true\n"), "gw.toml");
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().message, "gw.toml:22: tenant[0].sender_check: must be a string");
}
