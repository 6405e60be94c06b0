// Inside `bridgehead m365 setup`: what the configuration says about one
// tenant and topology (the plan), checked before any PowerShell is written,
// and the script made from it. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "m365/setup.hpp"
#include "policy/trust_config.hpp"

namespace bh::m365::detail {

struct Plan {
  Topology topology = Topology::service;
  std::string source;  // the configuration file, for the script's header
  std::string tenant_id;
  std::string tenant_name;
  std::string gateway;            // server.hostname: SmartHosts and TlsDomain
  std::string inbound_connector;  // the gateway's microsoft365 connector for the tenant
  std::vector<std::string> tenant_connectors;  // the gateway's connectors into the tenant
  std::string sender_certificate_name;         // TlsSenderCertificateName
  std::vector<std::string> recipient_domains;  // service: RecipientDomains (the service routes)
  std::vector<std::string> services;           // service: their services ("fax", "sms")
  std::vector<std::string> sender_domains;     // service: SenderDomains of the way back
  std::vector<std::string> mx_domains;     // davor, daneben2: the domains whose MX is the gateway
  std::vector<std::string> stamp_key_ids;  // daneben1, daneben2: current first
};

struct Findings {
  std::vector<std::string> problems;  // the configuration cannot work with the topology
  std::vector<std::string> warnings;  // it can, but check this
};

// What the checks share (setup_plan.cpp: tenant, inbound connector, routes;
// setup_checks.cpp: the gateway's certificate, the connectors into the tenant).
struct Checker {
  const Config& config;
  const SetupInput& input;
  Findings& found;
  Plan& plan;
  void problem(const std::string& text);  // "SOURCE: " + text
  void warning(const std::string& text);  // "warning: SOURCE: " + text
};

// server.hostname, [tls] and its certificate, the listeners.
void check_gateway(Checker& checker);
// plan.tenant_connectors: TLS, smarthosts, the client certificate presented
// for the tenant; sets plan.sender_certificate_name.
void check_tenant_connectors(Checker& checker, const Tenant& tenant);

// A certificate's CN and DNS SANs, lower case, each once.
std::vector<std::string> certificate_name_list(const CertificateNames& names);
// "name" in quotes, made printable; values joined with ", " ("none").
std::string quoted(std::string_view text);
std::string joined(const std::vector<std::string>& values);

// Fills in what it can; every problem goes to found.problems.
Plan make_plan(const Config& config, const SetupInput& input, Findings& found);

// The script for a plan without problems. An error names a value PowerShell
// could not be given safely (make_plan checks them first).
Result<std::string> render_script(const Plan& plan);

}  // namespace bh::m365::detail
