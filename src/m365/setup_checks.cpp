// The certificate checks of `bridgehead m365 setup`: the name Exchange
// Online checks on the gateway (TlsDomain) and the name it attributes the
// gateway's mail by (TlsSenderCertificateName).
#include <algorithm>

#include "connectors/smtp/smtp_kind.hpp"
#include "m365/setup_plan.hpp"
#include "mail/address.hpp"
#include "server/config.hpp"
#include "tls/name_match.hpp"
#include "util/printable.hpp"

namespace bh::m365::detail {
namespace {

constexpr std::string_view kExchangeOnlineName = "mail.protection.outlook.com";

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The names Exchange Online accepts as the tenant's TlsSenderCertificateName:
// a domain of the tenant, or a wildcard directly over one ("*.contoso.com"
// for contoso.com). Any other name is refused (5.7.51), and Microsoft wants
// one certificate per tenant (MC1226222).
std::vector<std::string> acceptable_names(const CertificateNames& names, const Tenant& tenant) {
  std::vector<std::string> acceptable;
  for (const std::string& name : certificate_name_list(names)) {
    std::string_view domain = name;
    if (domain.starts_with("*.")) domain.remove_prefix(2);
    if (contains(tenant.domains, domain)) acceptable.push_back(name);
  }
  return acceptable;
}

}  // namespace

std::vector<std::string> certificate_name_list(const CertificateNames& n) {
  std::vector<std::string> names;
  if (!n.common_name.empty()) names.push_back(to_lower_ascii(n.common_name));
  for (const std::string& dns : n.dns_names)
    if (!contains(names, to_lower_ascii(dns))) names.push_back(to_lower_ascii(dns));
  return names;
}

// Exchange Online connects to server.hostname on port 25 with STARTTLS and
// checks the certificate for that name (TlsDomain).
void check_gateway(Checker& c) {
  const std::string& host = c.config.hostname;
  c.plan.gateway = host;
  if (host.starts_with('[') || host.find('.') == std::string::npos)
    c.problem("server.hostname: " + quoted(host) +
              " is not a name Exchange Online can reach: its connector to the gateway needs the "
              "gateway's public DNS name (SmartHosts, TlsDomain)");
  if (!c.config.tls) {
    c.problem(
        "tls: no [tls] table: Exchange Online connects to the gateway with TLS and checks "
        "its certificate (TlsSettings DomainValidation)");
    return;
  }
  bool starttls = false, port25 = false;
  for (const ListenerConfig& l : c.config.listeners) {
    starttls = starttls || l.starttls;
    port25 = port25 || (l.starttls && l.port == 25);
  }
  if (!starttls)
    c.problem(
        "listener: no [[listener]] offers STARTTLS: Exchange Online's connector to the "
        "gateway requires TLS");
  else if (!port25)
    c.warning(
        "listener: no [[listener]] with STARTTLS on port 25: Exchange Online delivers to "
        "smarthosts on port 25 only, so port 25 of " +
        printable(host) + " must be forwarded to one");
  const std::string& path = c.config.tls->certificate;
  auto names = c.input.certificates.find(path);
  if (names == c.input.certificates.end()) {
    c.problem("tls.certificate: " + quoted(path) + " was not read");
    return;
  }
  if (!names->second) {
    c.problem("tls.certificate: " + names->second.error().message);
    return;
  }
  const CertificateNames& n = names->second.value();
  if (!tls::certificate_matches(host, n.dns_names, n.common_name))
    c.problem("tls.certificate: " + quoted(path) + " does not carry server.hostname " +
              quoted(host) + " (its names: " + joined(certificate_name_list(n)) +
              "): Exchange Online connects to that name and checks it (TlsDomain)");
  if (n.self_signed)
    c.warning("tls.certificate: " + quoted(path) +
              " is self-signed: Exchange Online validates the gateway's certificate against "
              "public CAs (TlsSettings DomainValidation)");
}

// Each connector into the tenant requires TLS and presents a certificate
// that names an accepted domain of the tenant; the tenant's inbound
// connector names one name, so the connectors must share it.
void check_tenant_connectors(Checker& c, const Tenant& tenant) {
  std::string tenant_text = quoted(tenant.name) + " (" + tenant.id + ")";
  std::vector<std::string> common;
  std::string first;
  for (const std::string& name : c.plan.tenant_connectors) {
    const connectors::SmtpConnectorSettings* s = nullptr;
    for (const auto& connector : c.config.connectors)
      if (connector.name == name) s = connectors::smtp_settings(connector.spec.get());
    if (!s) continue;  // make_plan lists smtp connectors only
    std::string key = "connector " + quoted(name) + ": ";
    tls::ClientPolicy policy = s->tls.policy;
    if (!tls::requires_tls(policy))
      c.problem(key + "tls: " + quoted(tls::client_policy_name(policy)) +
                " does not require TLS, and Exchange Online identifies the gateway by its TLS "
                "client certificate (RequireTls): use \"domain\" with tls_domain = \"" +
                std::string(kExchangeOnlineName) + "\"");
    else if (policy == tls::ClientPolicy::encrypt)
      c.warning(key +
                "tls: \"encrypt\" does not check Exchange Online's certificate; \"domain\" "
                "with tls_domain = \"" +
                std::string(kExchangeOnlineName) + "\" does");
    bool mx_at_gateway =
        c.input.topology == Topology::davor || c.input.topology == Topology::daneben2;
    if (mx_at_gateway && s->smarthosts.empty())
      c.problem(key +
                "smarthosts: none, so mail goes to the MX of the recipient's domain, which "
                "points at the gateway in this topology: name the tenant's Exchange Online host "
                "(<domain>.mail.protection.outlook.com)");
    std::string path = s->tls.client_certificate, which = "client_certificate";
    for (const auto& t : s->tenant_certificates)
      if (t.tenant == tenant.id) path = t.certificate, which = "tenant_certificate";
    if (path.empty()) {
      c.problem(key + "tenant_certificate: no client certificate for tenant " + tenant_text +
                " and no client_certificate: Exchange Online attributes the gateway's mail to "
                "the tenant by it; add a [[connector.tenant_certificate]] with tenant = \"" +
                tenant.id + "\"");
      continue;
    }
    auto names = c.input.certificates.find(path);
    if (names == c.input.certificates.end() || !names->second) {
      c.problem(key + which + ": " +
                (names == c.input.certificates.end() ? quoted(path) + " was not read"
                                                     : names->second.error().message));
      continue;
    }
    std::vector<std::string> acceptable = acceptable_names(names->second.value(), tenant);
    if (acceptable.empty())
      c.problem(key + which + ": " + quoted(path) + " names " +
                joined(certificate_name_list(names->second.value())) +
                ", none a domain of tenant " + tenant_text + " (" + joined(tenant.domains) +
                ") or a wildcard directly over one: Exchange Online accepts only an accepted "
                "domain of the tenant as TlsSenderCertificateName");
    if (names->second->self_signed)
      c.warning(key + which + ": " + quoted(path) +
                " is self-signed: Exchange Online trusts client certificates from public CAs");
    if (acceptable.empty()) continue;
    if (first.empty()) {
      first = name;
      common = acceptable;
      continue;
    }
    if (common.empty()) continue;  // reported already
    std::erase_if(common, [&](const std::string& n) { return !contains(acceptable, n); });
    if (common.empty())
      c.problem(key + which + ": shares no name for tenant " + tenant_text + " with connector " +
                quoted(first) +
                "'s certificate: the tenant's inbound connector names one "
                "(TlsSenderCertificateName)");
  }
  if (!common.empty()) c.plan.sender_certificate_name = common.front();
}

}  // namespace bh::m365::detail
