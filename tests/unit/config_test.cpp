#include <gtest/gtest.h>

#include <algorithm>

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

// ---- Configuration mistakes are errors (issue 12 item 7): one test per rule.

namespace {
std::string error_of(const std::string& text) {
  auto config = parse_config(text, "gw.toml");
  return config ? std::string("(accepted)") : config.error().message;
}
}  // namespace

TEST(ConfigMistakes, TwoConnectorsWithOneName) {
  EXPECT_EQ(error_of(kValid + "\n[[connector]]\nname = \"out\"\ntype = \"file\"\ndirectory = "
                              "\"x\"\n"),
            "gw.toml:20: connector[1].name: \"out\" is also the name of connector[0] (line 16); "
            "names must be unique");
}

TEST(ConfigMistakes, OneDomainInTwoRoutes) {
  EXPECT_EQ(error_of(kValid + "\n[[route]]\ndomains = [\"other.test\", \"EXAMPLE.test\"]\n"
                              "connector = \"out\"\n"),
            "gw.toml:20: route[1].domains: \"example.test\" is routed twice: route[0] (line 12) "
            "has it already");
  EXPECT_EQ(error_of(kValid + "\n[[route]]\ndomains = [\"*.Example.org\"]\nconnector = \"out\"\n"),
            "gw.toml:20: route[1].domains: \"*.example.org\" is routed twice: route[0] (line 12) "
            "has it already");
  // Within one route a repetition is harmless.
  EXPECT_EQ(error_of(kValid + "\n[[route]]\ndomains = [\"b.test\", \"B.test\"]\nconnector = "
                              "\"out\"\n"),
            "(accepted)");
}

// Address spaces (issue 8.3): the most specific wins whatever the order, so
// a domain after a wildcard that covers it is no mistake; "*" and full
// addresses are accepted, a malformed address is not.
TEST(ConfigMistakes, AddressSpacesInAnyOrder) {
  EXPECT_EQ(error_of(kValid + "\n[[route]]\ndomains = [\"a.example.org\", \"*\", "
                              "\"Fax@Example.test\"]\nconnector = \"out\"\n"),
            "(accepted)");
  EXPECT_EQ(
      error_of(kValid + "\n[[route]]\ndomains = [\"a b@example.test\"]\nconnector = \"out\"\n"),
      "gw.toml:20: route[1].domains: \"a b@example.test\" is not a domain");
  EXPECT_EQ(
      error_of(kValid + "\n[[route]]\ndomains = [\"x@*.example.test\"]\nconnector = \"out\"\n"),
      "gw.toml:20: route[1].domains: \"x@*.example.test\" is not an address");
  EXPECT_EQ(
      error_of(kValid + "\n[[route]]\ndomains = [\"*\"]\nconnector = \"out\"\n[[route]]\n"
                        "domains = [\"*\"]\nconnector = \"out\"\n"),
      "gw.toml:23: route[2].domains: \"*\" is routed twice: route[1] (line 20) has it already");
}

TEST(ConfigMistakes, TwoListenersOnOneAddress) {
  EXPECT_EQ(error_of(kValid + "\n[[listener]]\naddress = \"127.0.0.1:2525\"\nstarttls = false\n"),
            "gw.toml:20: listener[1].address: \"127.0.0.1:2525\" is also the address of "
            "listener[0] (line 5)");
  // Compared as addresses, not as text.
  std::string v6 = kValid +
                   "\n[[listener]]\naddress = \"[::1]:25\"\nstarttls = false\n"
                   "\n[[listener]]\naddress = \"[0:0::1]:25\"\nstarttls = false\n";
  EXPECT_EQ(error_of(v6),
            "gw.toml:24: listener[2].address: \"[0:0::1]:25\" is also the address of "
            "listener[1] (line 20)");
  EXPECT_EQ(error_of(kValid + "\n[[listener]]\naddress = \"127.0.0.1:2526\"\nstarttls = false\n"),
            "(accepted)");
}

TEST(ConfigMistakes, RetryDelayAboveMaxRetryDelay) {
  EXPECT_EQ(error_of(kValid + "\n[queue]\nretry_delay = 600\nmax_retry_delay = 300\n"),
            "gw.toml:20: queue.retry_delay: retry_delay (600) must not be above max_retry_delay "
            "(300)");
  EXPECT_EQ(error_of(kValid + "\n[queue]\nretry_delay = 5000\n"),
            "gw.toml:20: queue.retry_delay: retry_delay (5000) must not be above max_retry_delay "
            "(4000, the default)");
  EXPECT_EQ(error_of(kValid + "\n[queue]\nmax_retry_delay = 100\n"),
            "gw.toml:20: queue.max_retry_delay: retry_delay (300) must not be above "
            "max_retry_delay (100)");
  EXPECT_EQ(error_of(kValid + "\n[queue]\nretry_delay = 300\nmax_retry_delay = 300\n"),
            "(accepted)");
}

TEST(ConfigMistakes, EmptyPaths) {
  const std::string tls =
      "\n[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\nrequest_client_certificate = "
      "true\nclient_ca_file = \"ca.pem\"\n";
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {kValid + "\n[queue]\ndirectory = \"\"\n",
       "gw.toml:20: queue.directory: must not be empty: name a file or directory"},
      {kValid + "\n[directory]\ndatabase = \"\"\n",
       "gw.toml:20: directory.database: must not be empty: name a file or directory"},
      {kValid + "\n[tls]\ncertificate = \"\"\nprivate_key = \"k.pem\"\n",
       "gw.toml:20: tls.certificate: must not be empty: name a file or directory"},
      {kValid + "\n[tls]\ncertificate = \"c.pem\"\nprivate_key = \"\"\n",
       "gw.toml:21: tls.private_key: must not be empty: name a file or directory"},
      {kValid +
           "\n[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\nclient_ca_file = \"\"\n",
       "gw.toml:22: tls.client_ca_file: must not be empty: name a file or directory"},
      {kValid + "\n[[connector]]\nname = \"f\"\ntype = \"file\"\ndirectory = \"\"\n",
       "gw.toml:22: connector[1].directory: must not be empty: name a file or directory"},
      {kValid + "\n[[connector]]\nname = \"s\"\ntype = \"smtp\"\nca_file = \"\"\n",
       "gw.toml:22: connector[1].ca_file: must not be empty: name a file or directory"},
      {kValid + "\n[[connector]]\nname = \"s\"\ntype = \"smtp\"\nclient_certificate = \"\"\n"
                "client_key = \"\"\n",
       "gw.toml:22: connector[1].client_certificate: must not be empty: name a file or "
       "directory\ngw.toml:23: connector[1].client_key: must not be empty: name a file or "
       "directory"},
      {kValid + tls +
           "\n[[tenant]]\nid = \"4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b\"\ndomains = "
           "[\"contoso.test\"]\n\n[[inbound_connector]]\nname = \"p\"\nkind = \"partner\"\n"
           "ip_ranges = [\"192.0.2.0/24\"]\nca_file = \"\"\n",
       "gw.toml:33: inbound_connector[0].ca_file: must not be empty: name a file"},
      {kValid + "\n[queue]\ndirectory = \"a\\u0000b\"\n",
       "gw.toml:20: queue.directory: must not contain a NUL byte"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.text), c.error) << c.text;
}

TEST(ConfigMistakes, HostnameMustBeAHostName) {
  auto with_hostname = [](const std::string& value) {
    std::string text = kValid;
    text.replace(text.find("\"gw.example\""), 12, value);
    return error_of(text);
  };
  const std::string prefix = "gw.toml:2: server.hostname: ";
  struct Case {
    std::string toml;
    std::string error;  // after the prefix; empty: accepted
  } cases[] = {
      {R"("gw.example\r\n250 evil")",
       "\"gw.example\\x0D\\x0A250 evil\" is not a host name: it must not contain spaces, control "
       "characters or 8-bit bytes"},
      {R"("gw example")",
       "\"gw example\" is not a host name: it must not contain spaces, control characters or "
       "8-bit bytes"},
      {R"("")", "\"\" is not a host name: it must not be empty"},
      {R"("bjørn.example")",
       "\"bjørn.example\" is not a host name: it must not contain spaces, control characters or "
       "8-bit bytes"},
      {R"("-gw.example")",
       "\"-gw.example\" is not a host name: it has a label that starts with '-'"},
      {R"("gw-.example")", "\"gw-.example\" is not a host name: it has a label that ends with '-'"},
      {R"("gw..example")",
       "\"gw..example\" is not a host name: it has an empty label (two dots, or a leading dot)"},
      {R"("gw_1.example")",
       "\"gw_1.example\" is not a host name: it may hold only letters, digits, '-' and '.'"},
      {R"("gw.example.")", "\"gw.example.\" is not a host name: it must not end with a dot"},
      {"\"" + std::string(64, 'a') + ".example\"",
       "\"" + std::string(64, 'a') +
           ".example\" is not a host name: it has a label longer than 63 characters"},
      {"\"" + std::string(250, 'a').replace(60, 1, ".").replace(120, 1, ".").replace(180, 1, ".") +
           ".com\"",
       "\"" + std::string(250, 'a').replace(60, 1, ".").replace(120, 1, ".").replace(180, 1, ".") +
           ".com\" is not a host name: it must be at most 253 characters"},
      {R"("192.0.2.1")",
       "\"192.0.2.1\" is not a host name: it is an IP address: write it as an address literal, "
       "\"[192.0.2.1]\""},
      {R"("[300.0.2.1]")",
       "\"[300.0.2.1]\" is not a host name: it is not an address literal (\"[192.0.2.1]\" or "
       "\"[IPv6:2001:db8::1]\")"},
      {R"("localhost")", ""},
      {R"("Mail-1.Example.COM")", ""},
      {R"("[192.0.2.1]")", ""},
      {R"("[IPv6:2001:db8::1]")", ""},
  };
  for (const Case& c : cases)
    EXPECT_EQ(with_hostname(c.toml), c.error.empty() ? "(accepted)" : prefix + c.error) << c.toml;
}

TEST(ConfigMistakes, ConnectorHeloNameMustBeAHostName) {
  EXPECT_EQ(error_of(kValid + "\n[[connector]]\nname = \"s\"\ntype = \"smtp\"\nhelo_name = "
                              "\"gw\\nRSET\"\n"),
            "gw.toml:22: connector[1].helo_name: \"gw\\x0ARSET\" must not contain spaces, "
            "control characters or 8-bit bytes");
}

TEST(ConfigMistakes, RoutePatternsThatCanNeverMatch) {
  auto with_domain = [](const std::string& pattern) {
    std::string text = kValid;
    text.replace(text.find("\"*.example.org\""), 15, "\"" + pattern + "\"");
    return error_of(text);
  };
  EXPECT_EQ(with_domain("*"), "(accepted)");  // every domain (the least specific space)
  const std::string prefix = "gw.toml:12: route[0].domains: ";
  struct Case {
    std::string pattern;
    std::string error;
  } cases[] = {
      {"*example.org",
       "\"*example.org\" can never match: it '*' is only allowed as the whole first label, as in "
       "\"*.example.com\""},
      {"a.*.org",
       "\"a.*.org\" can never match: it '*' is only allowed as the whole first label, as in "
       "\"*.example.com\""},
      {"*.*.org",
       "\"*.*.org\" can never match: it '*' is only allowed as the whole first label, as in "
       "\"*.example.com\""},
      {"*.", "\"*.\" can never match: it names no domain after \"*.\""},
      {"example.org.",
       "\"example.org.\" can never match: it ends with a dot (recipient domains are compared "
       "without their trailing dot)"},
      {".example.org", "\".example.org\" can never match: it has an empty label"},
      {"a..org", "\"a..org\" can never match: it has an empty label"},
      {"exa/mple.org", "\"exa/mple.org\" can never match: it holds a character no domain can hold"},
      {"*.[192.0.2.1]",
       "\"*.[192.0.2.1]\" can never match: it an address literal has no subdomains"},
      {"-a.org", "\"-a.org\" can never match: it has a label that starts with '-'"},
  };
  for (const Case& c : cases) EXPECT_EQ(with_domain(c.pattern), prefix + c.error) << c.pattern;
  for (const char* good :
       {"[192.0.2.1]", "bücher.example", "xn--bcher-kva.example", "_dmarc.x.org"})
    EXPECT_EQ(with_domain(good), "(accepted)") << good;
}

TEST(ConfigMistakes, ServiceNames) {
  std::string text = kValid;
  text.replace(text.find("connector = \"out\""), 17, "connector = \"out\"\nservice = \"Fax\"");
  auto config = parse_config(text, "gw.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->routes.at(0).service, "fax");
  text.replace(text.find("\"Fax\""), 5, "\"fax machine\"");
  EXPECT_EQ(error_of(text),
            "gw.toml:14: route[0].service: \"fax machine\" is not a service name (lower-case "
            "letters, digits, '-' and '_', 1 to 32)");
}

// A fax connector's recipients use the fax service (its kind says so):
// a route to it needs no `service` (it is implied), and another service
// contradicts it.
TEST(ConfigMistakes, RouteToAFaxConnectorUsesTheFaxService) {
  const std::string fax =
      "\n[[connector]]\nname = \"fax\"\ntype = \"fax\"\nbackend = \"spool\"\n"
      "spool_directory = \"/var/spool/fax\"\ndomains = [\"fax.example.com\"]\n"
      "\n[[route]]\ndomains = [\"fax.example.com\"]\nconnector = \"fax\"\n";
  auto implied = parse_config(kValid + fax, "gw.toml");
  ASSERT_TRUE(implied) << implied.error().message;
  EXPECT_EQ(implied->routes.at(0).service, "");  // the discard connector has none
  EXPECT_EQ(implied->routes.at(1).service, "fax");
  EXPECT_EQ(bh::connector_services(implied->connectors),
            (bh::RoutingTable::ConnectorServices{{"fax", "fax"}}));
  auto named = parse_config(kValid + fax + "service = \"FAX\"\n", "gw.toml");
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->routes.at(1).service, "fax");
  std::string text = kValid + fax + "service = \"sms\"\n";
  std::size_t line = std::count(text.begin(), text.end(), '\n');  // the last line
  EXPECT_EQ(error_of(text), "gw.toml:" + std::to_string(line) +
                                ": route[1].service: \"sms\" contradicts connector \"fax\": a fax "
                                "connector's recipients use the fax service");
}

TEST(ConfigMistakes, WildcardTlsDomainNeedsASecondLevel) {
  auto with_domain = [](const std::string& domain) {
    return error_of(kValid + "\n[[connector]]\nname = \"mx\"\ntype = \"smtp\"\ntls = \"domain\"\n" +
                    "tls_domain = \"" + domain + "\"\n");
  };
  EXPECT_EQ(with_domain("*.example.com"), "(accepted)");
  EXPECT_EQ(with_domain("mx.example.com"), "(accepted)");
  EXPECT_NE(with_domain("*.com").find("tls_domain: \"*.com\" is a wildcard over a whole"),
            std::string::npos)
      << with_domain("*.com");
  EXPECT_NE(with_domain("a b.example").find("tls_domain"), std::string::npos);
}

// toml++ would read the integer 1 as true; a setting is true or false.
TEST(ConfigMistakes, BooleansAreTrueOrFalse) {
  std::string text = kValid;
  text.replace(text.find("starttls = false"), 16, "starttls = 1");
  EXPECT_EQ(error_of(text), "gw.toml:6: listener[0].starttls: must be true or false");
}
