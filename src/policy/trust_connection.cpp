// The trust decisions before DATA: the access lists, which inbound
// connector a connection is, and what MAIL FROM and RCPT TO may do on it.
#include <algorithm>

#include <fmt/format.h>

#include "policy/trust_policy.hpp"
#include "policy/trust_policy_internal.hpp"
#include "tls/name_match.hpp"

namespace bh {
using namespace trust_detail;

bool TrustPolicy::blocked(const PeerFacts& peer) const {
  if (!peer.ip) return false;
  return any_contains(config_.access.block, *peer.ip) &&
         !any_contains(config_.access.allow, *peer.ip);
}

Verdict TrustPolicy::on_connect(const PeerFacts& peer) const {
  if (config_.access.block_at == BlockAt::connect && blocked(peer))
    return Verdict::refuse(554, "5.7.1", "Access denied: your address is blocked",
                           "client address on the block list");
  return Verdict::accept();
}

bool TrustPolicy::matches(const InboundConnector& c, const PeerFacts& peer) const {
  if (c.certificate_names.empty() && c.ip_ranges.empty()) return false;
  if (!c.ip_ranges.empty() && !(peer.ip && any_contains(c.ip_ranges, *peer.ip))) return false;
  if (!c.certificate_names.empty()) {
    bool verified = c.ca_file.empty()
                        ? peer.cert_verified
                        : std::find(peer.cert_verified_by.begin(), peer.cert_verified_by.end(),
                                    c.ca_file) != peer.cert_verified_by.end();
    if (!peer.tls || !verified) return false;
    bool named = std::any_of(
        c.certificate_names.begin(), c.certificate_names.end(), [&](const std::string& name) {
          return tls::certificate_matches(name, peer.cert_dns_names, peer.cert_common_name);
        });
    if (!named) return false;
  }
  return true;
}

const InboundConnector* TrustPolicy::identify(const PeerFacts& peer) const {
  for (const InboundConnector& c : config_.connectors)
    if (matches(c, peer)) return &c;
  return nullptr;
}

bool TrustPolicy::verified_microsoft365(const InboundConnector* c, const PeerFacts& peer) const {
  // identify() only returns a certificate connector whose chain verified
  // against its bundle and whose name matched.
  return c != nullptr && c->kind == ConnectorKind::microsoft365 && !c->certificate_names.empty() &&
         matches(*c, peer);
}

Verdict TrustPolicy::on_mail(const InboundConnector* c, const PeerFacts& peer) const {
  if (c != nullptr && c->require_tls && !peer.tls)
    return Verdict::refuse(530, "5.7.0", "Must issue a STARTTLS command first",
                           "connector " + c->name + " requires TLS");
  return Verdict::accept();
}

std::set<std::string> TrustPolicy::services_of(const Envelope& envelope) const {
  std::set<std::string> services;
  for (const Recipient& r : envelope.recipients) {
    const Route* route = routes_.find(r.address);
    if (route == nullptr) continue;
    if (std::string_view service = routes_.service_of(*route); !service.empty())
      services.emplace(service);
  }
  return services;
}

Verdict TrustPolicy::on_rcpt(const InboundConnector* c, const PeerFacts& peer,
                             const Address& sender, const Recipient& recipient) const {
  if (config_.access.block_at == BlockAt::rcpt && blocked(peer))
    return Verdict::refuse(554, "5.7.1", "Access denied: your address is blocked",
                           "client address on the block list");
  // Partner lockdown: these sender domains must come through their connector.
  std::string sender_domain = sender.null() ? "" : sender.domain_key();
  for (const InboundConnector& lock : config_.connectors) {
    if (lock.restrict_sender_domains.empty() || &lock == c) continue;
    bool locked =
        contains(lock.restrict_sender_domains, "*") ||
        (!sender_domain.empty() && domain_in(lock.restrict_sender_domains, sender_domain));
    if (!locked) continue;
    return Verdict::refuse(
        550, "5.7.51",
        fmt::format("TenantInboundAttribution; There is a partner connector ({}) configured that "
                    "matched the message's sender domain. The connector restricts it to its IP "
                    "addresses or certificate",
                    lock.name),
        fmt::format("sender domain {} is locked to connector {}",
                    sender_domain.empty() ? "<>" : sender_domain, lock.name));
  }
  // The tenant is not known before the message's header: only routes that
  // apply to every tenant are checked here; the intake checks a tenant's
  // own route's service at the end of DATA (connector_offers).
  const Route* route =
      routes_.find(recipient.address, RouteScope{c ? std::string_view(c->name) : "", "", true});
  std::string_view service = route ? routes_.service_of(*route) : std::string_view();
  if (!service.empty()) {
    if (c == nullptr)
      return refused(fmt::format("{}: this connection may not use the {} service",
                                 recipient.address.path(), service),
                     "no inbound connector matched the connection");
    if (!contains(c->services, service))
      return refused(fmt::format("{}: this connection may not use the {} service",
                                 recipient.address.path(), service),
                     fmt::format("connector {} does not offer service {}", c->name, service));
  }
  return Verdict::accept();
}

}  // namespace bh
