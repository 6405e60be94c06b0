// type = "smtp": the settings of docs/configuration.md's smtp connector.
#include "connectors/smtp/smtp_kind.hpp"
#include "connectors/kind.hpp"
#include "connectors/smtp/smtp_connector.hpp"
#include "mail/address.hpp"
#include "tls/client_policy.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"

namespace bh::connectors {
namespace {

class SmtpSpec final : public SmtpSettingsSpec {
 public:
  Result<std::shared_ptr<Connector>> build() const override {
    auto connector = SmtpConnector::create(settings);
    if (!connector) return connector.error();
    return std::shared_ptr<Connector>(*connector);
  }
  std::vector<std::string> check_resources() const override {
    std::vector<std::string> problems;
    if (settings.tls.policy == tls::ClientPolicy::none) return problems;
    if (auto made = tls::make_client_context(settings.tls); !made)
      problems.push_back("connector " + settings.name + ": " + made.error().message);
    for (const TenantCertificate& t : settings.tenant_certificates) {
      tls::ClientTlsSettings tenant_tls = settings.tls;
      tenant_tls.client_certificate = t.certificate;
      tenant_tls.client_key = t.key;
      if (auto made = tls::make_client_context(tenant_tls); !made)
        problems.push_back("connector " + settings.name + ": tenant " + t.tenant + ": " +
                           made.error().message);
    }
    return problems;
  }
};

// [[connector.tenant_certificate]]: the client certificate presented for
// one tenant's mail (Microsoft wants one certificate per tenant, named with
// an accepted domain of that tenant, from a server that sends to several).
void read_tenant_certificates(TableReader& parent, SmtpConnectorSettings& s) {
  each_table(parent, parent.source(), parent.errors(), "tenant_certificate", [&](TableReader& r) {
    TenantCertificate t;
    r.text("tenant", t.tenant, true);
    t.tenant = to_lower_ascii(t.tenant);
    r.path("client_certificate", t.certificate, true);
    r.path("client_key", t.key, true);
    for (const TenantCertificate& earlier : s.tenant_certificates)
      if (!t.tenant.empty() && earlier.tenant == t.tenant)
        r.error(*r.node("tenant"), "tenant",
                "\"" + printable(t.tenant) + "\" has a certificate already");
    s.tenant_certificates.push_back(std::move(t));
  });
  if (!s.tenant_certificates.empty() && s.tls.policy == tls::ClientPolicy::none)
    parent.error(*parent.node("tenant_certificate"), "tenant_certificate",
                 "needs TLS: tls = \"none\" never presents a certificate");
}

std::shared_ptr<const ConnectorSpec> read(TableReader& r, const KindEnvironment& env) {
  auto spec = std::make_shared<SmtpSpec>();
  SmtpConnectorSettings& s = spec->settings;
  s.name = env.connector_name;
  s.helo_name = env.hostname;
  s.dns = env.dns;
  std::vector<std::string> smarthosts;
  if (r.table().contains("smarthosts")) r.strings("smarthosts", smarthosts, true);
  for (const std::string& entry : smarthosts) {
    HostPort host;
    if (!parse_host_and_port(entry, host.host, host.port, 25))
      r.error(*r.node("smarthosts"), "smarthosts",
              "\"" + printable(entry) + "\" is not HOST[:PORT]");
    s.smarthosts.push_back(host);
  }
  r.number("port", s.mx_port, 1, 65535);
  std::string policy = "opportunistic";
  r.text("tls", policy);
  if (auto parsed = tls::client_policy_from(policy)) {
    s.tls.policy = *parsed;
  } else {
    r.error(*r.node("tls"), "tls", "must be none, opportunistic, encrypt, verify or domain");
  }
  r.text("tls_domain", s.tls_domain);
  if (!s.tls_domain.empty()) {
    // "*.example.com" matches one label under example.com; "*.com" would match
    // every name in a top-level domain, so it is refused like any bad name.
    bool wildcard = s.tls_domain.starts_with("*.");
    std::string name = wildcard ? s.tls_domain.substr(2) : s.tls_domain;
    std::string problem = hostname_problem(name);
    if (problem.empty() && wildcard && name.find('.') == std::string::npos)
      problem = "is a wildcard over a whole top-level domain";
    if (!problem.empty())
      r.error(*r.node("tls_domain"), "tls_domain",
              "\"" + printable(s.tls_domain) + "\" " + problem);
  }
  r.path("ca_file", s.tls.ca_file);
  r.path("client_certificate", s.tls.client_certificate);
  r.path("client_key", s.tls.client_key);
  if (s.tls.client_certificate.empty() != s.tls.client_key.empty())
    r.error(*r.node(s.tls.client_key.empty() ? "client_certificate" : "client_key"), "client_key",
            "client_certificate and client_key go together");
  if (r.table().contains("helo_name")) {
    r.text("helo_name", s.helo_name);
    if (r.node("helo_name")->is_string())
      if (std::string problem = hostname_problem(s.helo_name); !problem.empty())
        r.error(*r.node("helo_name"), "helo_name", "\"" + printable(s.helo_name) + "\" " + problem);
  }
  r.number("max_connections", s.max_connections, 1, 1000);
  r.number("max_total_connections", s.max_total_connections, 1, 10000);
  r.number("max_messages_per_connection", s.max_messages_per_connection, 1, 100000);
  std::int64_t seconds = s.connect_timeout.count();
  r.number("connect_timeout", seconds, 1, 3600);
  s.connect_timeout = std::chrono::seconds(seconds);
  seconds = s.command_timeout.count();
  r.number("command_timeout", seconds, 1, 3600);
  s.command_timeout = std::chrono::seconds(seconds);
  seconds = s.data_timeout.count();
  r.number("data_timeout", seconds, 1, 7200);
  s.data_timeout = std::chrono::seconds(seconds);
  seconds = s.idle_time.count();
  r.number("idle_time", seconds, 0, 300);
  s.idle_time = std::chrono::seconds(seconds);
  read_tenant_certificates(r, s);
  std::string audience = "internet";
  r.text("audience", audience);
  if (auto parsed = audience_from(audience)) {
    s.audience = *parsed;
  } else {
    r.error(*r.node("audience"), "audience", "must be tenant, partner or internet");
  }
  return spec;
}

}  // namespace

const SmtpConnectorSettings* smtp_settings(const ConnectorSpec* spec) {
  auto* smtp = dynamic_cast<const SmtpSettingsSpec*>(spec);
  return smtp ? &smtp->settings : nullptr;
}

KindDefinition smtp_kind() {
  return {"smtp", read};
}

}  // namespace bh::connectors
