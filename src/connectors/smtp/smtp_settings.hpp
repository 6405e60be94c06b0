// Settings of an SMTP connector ([[connector]] type = "smtp").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver_settings.hpp"
#include "mail/control_headers.hpp"
#include "tls/client_policy.hpp"

namespace bh::connectors {

struct HostPort {
  std::string host;
  std::uint16_t port = 25;
};

struct TenantCertificate {
  std::string tenant;  // lower-case GUID
  std::string certificate;
  std::string key;
};

inline std::optional<Audience> audience_from(std::string_view name) {
  if (name == "tenant") return Audience::tenant;
  if (name == "partner") return Audience::partner;
  if (name == "internet") return Audience::internet;
  return std::nullopt;
}

struct SmtpConnectorSettings {
  std::string name;
  std::vector<HostPort> smarthosts;  // empty: MX lookup of the recipient domain
  std::uint16_t mx_port = 25;
  tls::ClientTlsSettings tls;
  // Presented instead of tls.client_certificate for that tenant's messages.
  std::vector<TenantCertificate> tenant_certificates;
  // Toward partners and the internet, X-MS-Exchange-Organization-* and
  // Bridgehead's own control headers are removed; toward the tenant
  // (Exchange Online inbound) they stay.
  Audience audience = Audience::internet;
  std::string tls_domain;  // name the certificate must match (domain policy); default: host
  std::string helo_name = "localhost";
  unsigned max_connections = 10;         // per destination
  unsigned max_total_connections = 100;  // all destinations together (Postfix: process limit)
  unsigned max_messages_per_connection = 100;
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};
  std::chrono::seconds data_timeout{600};
  std::chrono::seconds idle_time{2};  // how long an unused connection waits for more mail
  dns::ResolverSettings dns;
};

}  // namespace bh::connectors
