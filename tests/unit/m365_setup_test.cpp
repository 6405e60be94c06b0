// `bridgehead m365 setup`: a golden script per topology (tests/unit/m365/;
// BH_UPDATE_GOLDEN=1 rewrites them: review the diff), and the problems that
// stop the script, each naming its configuration key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "m365/setup.hpp"
#include "policy/processed_stamp.hpp"
#include "server/config.hpp"
#include "tests/unit/m365_test_pki.hpp"

namespace {

using bh::m365::Topology;

const std::string kContoso = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
const std::string kFabrikam = "9f8e7d6c-5b4a-4321-8fed-cba987654321";

// The gateway, the tenant and the connector into it; each test adds its routes.
const std::string kBase = R"([server]
hostname = "gw.example.net"

[[listener]]
address = "0.0.0.0:25"

[tls]
certificate = "@DIR@/server.pem"
private_key = "@DIR@/server.key"
request_client_certificate = true
client_ca_file = "@DIR@/ca.pem"

[[tenant]]
id = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
name = "contoso"
domains = ["contoso.com", "contoso.de", "contoso.onmicrosoft.com"]

[[inbound_connector]]
name = "contoso-exo"
kind = "microsoft365"
certificate_names = ["mail.protection.outlook.com"]
tenants = ["4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"]
services = ["fax", "sms"]

[[connector]]
name = "to-exo"
type = "smtp"
smarthosts = ["contoso-com.mail.protection.outlook.com"]
tls = "domain"
tls_domain = "mail.protection.outlook.com"
audience = "tenant"

[[connector.tenant_certificate]]
tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
client_certificate = "@DIR@/contoso.pem"
client_key = "@DIR@/contoso.key"

[[connector]]
name = "internet"
type = "smtp"
tls = "opportunistic"

[[connector]]
name = "fax"
type = "discard"

[[connector]]
name = "sms"
type = "discard"
)";

std::string route(const std::string& domains, const std::string& connector,
                  const std::string& service = "") {
  return "\n[[route]]\ndomains = [" + domains + "]\nconnector = \"" + connector + "\"\n" +
         (service.empty() ? "" : "service = \"" + service + "\"\n");
}

// What each topology's golden configuration routes.
std::string routes_for(Topology topology) {
  switch (topology) {
    case Topology::davor:  // internet mail in to the tenant, the tenant's mail out
      return route("\"contoso.com\", \"contoso.de\"", "to-exo") + route("\"*\"", "internet");
    case Topology::daneben1:
    case Topology::daneben2:  // everything back to the tenant
      return route("\"*\"", "to-exo");
    case Topology::service:
      return route("\"fax.example.net\"", "fax", "fax") +
             route("\"sms.example.net\", \"*.sms.example.net\"", "sms", "sms") +
             route("\"contoso.com\", \"contoso.de\"", "to-exo");
  }
  return "";
}

class M365Setup : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_.leaf("server", "gw.example.net", {"gw.example.net"});
    pki_.leaf("contoso", "bridgehead.contoso.com", {"bridgehead.contoso.com", "contoso.com"});
  }

  std::string text(const std::string& extra) const {
    std::string text = kBase + extra;
    for (std::size_t at; (at = text.find("@DIR@")) != std::string::npos;)
      text.replace(at, 5, pki_.dir().string());
    return text;
  }

  bh::Config config(const std::string& extra) const {
    auto parsed = bh::parse_config(text(extra), "bridgehead.toml");
    EXPECT_TRUE(parsed) << parsed.error().message;
    return parsed ? std::move(*parsed) : bh::Config{};
  }

  static bh::m365::SetupInput input(const bh::Config& config, Topology topology,
                                    const std::string& tenant = "") {
    bh::m365::SetupInput in;
    in.topology = topology;
    in.tenant = tenant;
    in.certificates = bh::m365::read_configured_certificates(config);
    in.stamp_key_ids = {bh::stamp_key_id(std::string(32, 'k'))};
    return in;
  }

  // The problems, one per line; "" when the script was made.
  static std::string problems(const bh::Config& config, const bh::m365::SetupInput& in) {
    auto script = bh::m365::generate_setup(config, in);
    return script ? "" : script.error().message;
  }

  std::string problems(const std::string& extra, Topology topology) const {
    bh::Config c = config(extra);
    return problems(c, input(c, topology));
  }

  bh::m365::testing::TestPki pki_;
};

std::string golden_path(Topology topology) {
  // From CMake, not __FILE__ (relative under ccache's base_dir).
  return (std::filesystem::path(BH_M365_GOLDEN_DIR) /
          (std::string(bh::m365::topology_name(topology)) + ".ps1"))
      .string();
}

void expect_golden(Topology topology, const std::string& actual) {
  std::string path = golden_path(topology);
  if (const char* update = std::getenv("BH_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing: run with BH_UPDATE_GOLDEN=1";
  std::ostringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str())
      << "differs from " << path << " (BH_UPDATE_GOLDEN=1 rewrites it; review the diff)";
}

}  // namespace

class M365SetupGolden : public M365Setup, public ::testing::WithParamInterface<Topology> {};

TEST_P(M365SetupGolden, MatchesTheGoldenScript) {
  bh::Config c = config(routes_for(GetParam()));
  auto script = bh::m365::generate_setup(c, input(c, GetParam()));
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_TRUE(script->warnings.empty()) << script->warnings.front();
  expect_golden(GetParam(), script->text);
}

INSTANTIATE_TEST_SUITE_P(Topologies, M365SetupGolden,
                         ::testing::Values(Topology::davor, Topology::daneben1, Topology::daneben2,
                                           Topology::service),
                         [](const auto& info) {
                           return std::string(bh::m365::topology_name(info.param));
                         });

TEST_F(M365Setup, TenantByIdOrNameWhenSeveralAreConfigured) {
  std::string fabrikam = "\n[[tenant]]\nid = \"" + kFabrikam +
                         "\"\nname = \"fabrikam\"\ndomains = [\"fabrikam.com\"]\n";
  bh::Config c = config(fabrikam + routes_for(Topology::daneben1));
  EXPECT_EQ(problems(c, input(c, Topology::daneben1)),
            "--tenant: 2 tenants are configured (\"contoso\" (" + kContoso + "), \"fabrikam\" (" +
                kFabrikam + ")); name one by id or name");
  EXPECT_EQ(problems(c, input(c, Topology::daneben1, "CONTOSO")), "");
  EXPECT_EQ(problems(c, input(c, Topology::daneben1, "4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B")), "");
  EXPECT_EQ(problems(c, input(c, Topology::daneben1, "nobody")),
            "--tenant \"nobody\": no [[tenant]] has this id or name (configured: \"contoso\" (" +
                kContoso + "), \"fabrikam\" (" + kFabrikam + "))");
  // fabrikam has no inbound connector and no certificate: each problem on its own line.
  std::string f = problems(c, input(c, Topology::daneben1, "fabrikam"));
  EXPECT_NE(f.find("bridgehead.toml: inbound_connector: no microsoft365 connector lists tenant "
                   "\"fabrikam\""),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("\nbridgehead.toml: connector \"to-exo\": tenant_certificate: no client "
                   "certificate for tenant \"fabrikam\""),
            std::string::npos)
      << f;
}

TEST_F(M365Setup, NoTenantConfigured) {
  bh::Config c = config(routes_for(Topology::daneben1));
  c.trust.tenants.clear();
  EXPECT_EQ(problems(c, input(c, Topology::daneben1)),
            "bridgehead.toml: tenant: no [[tenant]] is configured; the Exchange Online set-up is "
            "per tenant");
}

// The connector's text with its tenant_certificate replaced by a plain
// client_certificate (tls = "none" refuses a tenant_certificate).
std::string with_plain_certificate(std::string t, const std::string& dir) {
  std::size_t from = t.find("[[connector.tenant_certificate]]");
  t.replace(from, t.find("[[connector]]", from) - from, "");
  t.replace(t.find("audience = \"tenant\""), 19,
            "audience = \"tenant\"\nclient_certificate = \"" + dir +
                "/contoso.pem\"\nclient_key = \"" + dir + "/contoso.key\"");
  return t;
}

TEST_F(M365Setup, RouteTowardTheTenantMustRequireTls) {
  for (std::string policy : {"opportunistic", "none"}) {
    std::string t = with_plain_certificate(text(routes_for(Topology::service)), pki_.dir());
    t.replace(t.find("tls = \"domain\""), 14, "tls = \"" + policy + "\"");
    auto c = bh::parse_config(t, "bridgehead.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(problems(*c, input(*c, Topology::service)),
              "bridgehead.toml: connector \"to-exo\": tls: \"" + policy +
                  "\" does not require TLS, and Exchange Online identifies the gateway by its TLS "
                  "client certificate (RequireTls): use \"domain\" with tls_domain = "
                  "\"mail.protection.outlook.com\"");
  }
  // encrypt works, but does not check Exchange Online's name.
  std::string t = with_plain_certificate(text(routes_for(Topology::service)), pki_.dir());
  t.replace(t.find("tls = \"domain\""), 14, "tls = \"encrypt\"");
  auto c = bh::parse_config(t, "bridgehead.toml");
  ASSERT_TRUE(c) << c.error().message;
  auto script = bh::m365::generate_setup(*c, input(*c, Topology::service));
  ASSERT_TRUE(script) << script.error().message;
  ASSERT_EQ(script->warnings.size(), 1u);
  EXPECT_EQ(script->warnings[0],
            "warning: bridgehead.toml: connector \"to-exo\": tls: \"encrypt\" does not check "
            "Exchange Online's certificate; \"domain\" with tls_domain = "
            "\"mail.protection.outlook.com\" does");
}

TEST_F(M365Setup, CertificateNameMustBeADomainOfTheTenant) {
  pki_.leaf("contoso", "bridgehead.contoso.com", {"bridgehead.contoso.com", "*.mail.contoso.com"});
  EXPECT_EQ(problems(routes_for(Topology::daneben1), Topology::daneben1),
            "bridgehead.toml: connector \"to-exo\": tenant_certificate: \"" +
                (pki_.dir() / "contoso.pem").string() +
                "\" names bridgehead.contoso.com, *.mail.contoso.com, none a domain of tenant "
                "\"contoso\" (" +
                kContoso +
                ") (contoso.com, contoso.de, contoso.onmicrosoft.com) or a wildcard directly over "
                "one: Exchange Online accepts only an accepted domain of the tenant as "
                "TlsSenderCertificateName");
}

TEST_F(M365Setup, WildcardOverATenantDomainIsAccepted) {
  pki_.leaf("contoso", "*.contoso.de", {"*.contoso.de"});
  bh::Config c = config(routes_for(Topology::daneben1));
  auto script = bh::m365::generate_setup(c, input(c, Topology::daneben1));
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_NE(script->text.find("  -TlsSenderCertificateName '*.contoso.de' `\n"), std::string::npos);
}

TEST_F(M365Setup, NoClientCertificateForTheTenant) {
  std::string t = text(routes_for(Topology::service));
  std::size_t from = t.find("[[connector.tenant_certificate]]");
  t.erase(from, t.find("[[connector]]", from) - from);
  auto c = bh::parse_config(t, "bridgehead.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(problems(*c, input(*c, Topology::service)),
            "bridgehead.toml: connector \"to-exo\": tenant_certificate: no client certificate for "
            "tenant \"contoso\" (" +
                kContoso +
                ") and no client_certificate: Exchange Online attributes the gateway's mail to the "
                "tenant by it; add a [[connector.tenant_certificate]] with tenant = \"" +
                kContoso + "\"");
}

TEST_F(M365Setup, EveryProblemAtOnceAndNoScript) {
  pki_.leaf("server", "other.example.net", {"other.example.net"});
  pki_.leaf("contoso", "bridgehead.fabrikam.com", {"bridgehead.fabrikam.com"});
  std::string t = text(routes_for(Topology::daneben2));
  t.replace(t.find("tls = \"domain\""), 14, "tls = \"opportunistic\"");
  const std::string smarthosts = "smarthosts = [\"contoso-com.mail.protection.outlook.com\"]\n";
  t.erase(t.find(smarthosts), smarthosts.size());
  auto c = bh::parse_config(t, "bridgehead.toml");
  ASSERT_TRUE(c) << c.error().message;
  bh::m365::SetupInput in = input(*c, Topology::daneben2);
  in.stamp_key_ids.clear();
  in.stamp_key_problem = "\"var/stamp.key\": cannot open";
  std::string p = problems(*c, in);
  std::vector<std::string> keys = {
      "bridgehead.toml: tls.certificate: ",
      "bridgehead.toml: stamp.key_file: \"var/stamp.key\": cannot open: the transport rule's",
      "bridgehead.toml: connector \"to-exo\": tls: \"opportunistic\" does not require TLS",
      "bridgehead.toml: connector \"to-exo\": smarthosts: none",
      "bridgehead.toml: connector \"to-exo\": tenant_certificate: "};
  std::size_t lines = std::count(p.begin(), p.end(), '\n') + 1;
  EXPECT_EQ(lines, keys.size()) << p;
  for (const std::string& key : keys) EXPECT_NE(p.find(key), std::string::npos) << key << "\n" << p;
}

TEST_F(M365Setup, DavorMailOutMustNotGoBackToTheTenant) {
  std::string p = problems(route("\"*\"", "to-exo"), Topology::davor);
  EXPECT_EQ(p,
            "bridgehead.toml: route[0]: the tenant's mail to other domains goes back to the tenant "
            "(connector \"to-exo\", audience = \"tenant\"), and Exchange Online would send it to "
            "the gateway again: in front of Exchange Online the gateway delivers it itself "
            "(audience = \"internet\"), or use --topology daneben1");
  EXPECT_EQ(problems(route("\"contoso.com\", \"contoso.de\"", "to-exo"), Topology::davor),
            "bridgehead.toml: route: no [[route]] takes the tenant's mail to other domains "
            "(domains = [\"*\"]): in front of Exchange Online the gateway sends it to the "
            "internet itself");
}

TEST_F(M365Setup, DanebenMailMustComeBackToTheTenant) {
  std::string p =
      problems(route("\"*\"", "internet") + route("\"contoso.de\"", "fax"), Topology::daneben1);
  EXPECT_NE(p.find("bridgehead.toml: route[0]: the tenant's mail to other domains goes to "
                   "connector \"internet\" (type = \"smtp\", audience is not \"tenant\"), not into "
                   "the tenant"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("bridgehead.toml: route[1]: the tenant's mail for \"contoso.de\" goes to "
                   "connector \"fax\" (type = \"discard\")"),
            std::string::npos)
      << p;
}

TEST_F(M365Setup, ScopedRoutesAreFollowed) {
  // Mail from the tenant goes back to it; internet mail goes elsewhere.
  bh::Config c = config(route("\"*\"", "to-exo") + "from_tenants = [\"" + kContoso + "\"]\n" +
                        route("\"*\"", "internet"));
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(problems(c, input(c, Topology::daneben1)), "");
  EXPECT_EQ(problems(c, input(c, Topology::daneben2)),
            "bridgehead.toml: route[1]: mail for \"contoso.com\" from the internet goes to "
            "connector \"internet\" (type = \"smtp\", audience is not \"tenant\"), not into the "
            "tenant: that is a smtp connector with audience = \"tenant\"\n"
            "bridgehead.toml: route[1]: mail for \"contoso.de\" from the internet goes to "
            "connector \"internet\" (type = \"smtp\", audience is not \"tenant\"), not into the "
            "tenant: that is a smtp connector with audience = \"tenant\"");
}

TEST_F(M365Setup, ServiceRoutesMustBeDomains) {
  std::string p =
      problems(route("\"*\"", "fax", "fax") + route("\"sms@example.net\"", "sms", "sms") +
                   route("\"contoso.com\", \"contoso.de\"", "to-exo"),
               Topology::service);
  EXPECT_NE(p.find("route[0]: domains: \"*\" (service \"fax\"): the outbound connector would send "
                   "all of the tenant's mail to the gateway"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("route[1]: domains: \"sms@example.net\" is a full address"), std::string::npos)
      << p;
}

TEST_F(M365Setup, ServerCertificateAndHostname) {
  pki_.leaf("server", "gw.example.net", {"gw.example.net"}, true);
  bh::Config c = config(routes_for(Topology::service));
  auto script = bh::m365::generate_setup(c, input(c, Topology::service));
  ASSERT_TRUE(script) << script.error().message;
  ASSERT_EQ(script->warnings.size(), 1u);
  EXPECT_EQ(script->warnings[0],
            "warning: bridgehead.toml: tls.certificate: \"" + (pki_.dir() / "server.pem").string() +
                "\" is self-signed: Exchange Online validates the gateway's certificate against "
                "public CAs (TlsSettings DomainValidation)");
  c.hostname = "localhost";
  EXPECT_NE(problems(c, input(c, Topology::service))
                .find("bridgehead.toml: server.hostname: \"localhost\" is not a name Exchange "
                      "Online can reach"),
            std::string::npos);
}

TEST_F(M365Setup, ValuesAreQuotedAndControlCharactersRefused) {
  bh::Config c = config(routes_for(Topology::daneben1));
  pki_.leaf("contoso", "o'brien.com", {"o'brien.com"});
  c.trust.tenants[0].domains = {"o'brien.com", "contoso.com"};
  auto script = bh::m365::generate_setup(c, input(c, Topology::daneben1));
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_NE(script->text.find("-TlsSenderCertificateName 'o''brien.com'"), std::string::npos);
  c.trust.tenants[0].domains.push_back("evil.com\n");
  EXPECT_NE(problems(c, input(c, Topology::daneben1))
                .find("bridgehead.toml: tenant \"contoso\": domains: \"evil.com\\x0A\" holds a "
                      "control character"),
            std::string::npos);
}
