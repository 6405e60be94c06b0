#include "policy/trust_policy.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "tls/name_match.hpp"

namespace bh {
namespace {

constexpr std::string_view kTenantHeader = "X-MS-Exchange-CrossTenant-Id";

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool domain_in(const std::vector<std::string>& domains, std::string_view domain) {
  for (const auto& d : domains)
    if (domain_matches(d, domain)) return true;
  return false;
}

std::string domain_of(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string domain = to_lower_ascii(address.substr(at + 1));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

bool untrusted_header(std::string_view name) {
  return istarts_with_ascii(name, "X-MS-Exchange-CrossTenant-") ||
         istarts_with_ascii(name, "X-MS-Exchange-Organization-");
}

Verdict refused(std::string reply, std::string reason = {}) {
  return Verdict::refuse(550, "5.7.1", std::move(reply), std::move(reason));
}

// The single value of a header, if there is exactly one.
std::optional<std::string> single_value(const HeaderBlock& block, std::string_view name) {
  auto fields = block.all(name);
  if (fields.size() != 1) return std::nullopt;
  return HeaderBlock::unfolded(fields.front()->value);
}

}  // namespace

bool is_tenant_guid(std::string_view text) {
  static constexpr std::size_t kGroups[] = {8, 4, 4, 4, 12};
  std::size_t pos = 0;
  for (std::size_t g = 0; g < 5; ++g) {
    if (g > 0) {
      if (pos >= text.size() || text[pos] != '-') return false;
      ++pos;
    }
    for (std::size_t i = 0; i < kGroups[g]; ++i, ++pos)
      if (pos >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[pos]))) return false;
  }
  return pos == text.size();
}

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
    const Route* route = routes_.find(r.address.domain_key());
    if (route != nullptr && !route->service.empty()) services.insert(route->service);
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
  const Route* route = routes_.find(recipient.address.domain_key());
  if (route != nullptr && !route->service.empty()) {
    if (c == nullptr)
      return refused(fmt::format("{}: this connection may not use the {} service",
                                 recipient.address.path(), route->service),
                     "no inbound connector matched the connection");
    if (!contains(c->services, route->service))
      return refused(
          fmt::format("{}: this connection may not use the {} service", recipient.address.path(),
                      route->service),
          fmt::format("connector {} does not offer service {}", c->name, route->service));
  }
  return Verdict::accept();
}

Verdict TrustPolicy::check_sender(const std::string& tenant_id, const Envelope& envelope,
                                  const HeaderBlock& header,
                                  const std::set<std::string>& services) const {
  std::string sender = envelope.sender.text();
  std::string first_service = *services.begin();
  auto not_permitted = [&](const std::string& service, std::string reason) {
    return refused(
        fmt::format("Sender <{}> is not permitted to use the {} service", sender, service),
        std::move(reason));
  };
  if (envelope.sender.null()) return not_permitted(first_service, "null sender");
  std::optional<directory::User> user =
      directory_ ? directory_->find_user(sender) : std::optional<directory::User>();
  std::string tenant_of_message = tenant_id.empty() && user ? user->tenant : tenant_id;
  const Tenant* tenant = config_.tenant(tenant_of_message);
  if (tenant == nullptr)
    return tenant_id.empty() ? not_permitted(first_service, "sender not in the directory")
                             : refused("Message refused: the sending tenant is not known here",
                                       "tenant " + tenant_of_message + " not configured");
  if (!domain_in(tenant->domains, envelope.sender.domain_key()))
    return refused(fmt::format("Sender <{}> does not belong to the sending tenant", sender),
                   fmt::format("sender domain not a domain of tenant {}", tenant->id));
  auto from = single_value(header, "From");
  std::string from_domain = from ? domain_of(address_in_header(*from)) : "";
  if (from_domain.empty() || !domain_in(tenant->domains, from_domain))
    return refused(
        "From: address does not belong to the sending tenant",
        fmt::format("From: domain '{}' not a domain of tenant {}", from_domain, tenant->id));
  for (const std::string& service : services) {
    if (!user) return not_permitted(service, "sender not in the directory");
    if (user->tenant != tenant->id)
      return not_permitted(service, "directory entry belongs to tenant " + user->tenant);
    if (!user->may(service)) return not_permitted(service, "no " + service + " permission");
  }
  return Verdict::accept(
      fmt::format("sender allowed for {} in tenant {}", first_service, tenant->id));
}

DataDecision TrustPolicy::on_data(const InboundConnector* c, const PeerFacts& peer,
                                  const Envelope& envelope, std::string& content) const {
  DataDecision decision;
  std::set<std::string> services = services_of(envelope);
  if (!verified_microsoft365(c, peer)) {
    // Never believed from anyone else: removed before the message is queued.
    decision.removed_headers = remove_header_fields(content, untrusted_header);
    if (!services.empty())
      decision.verdict = check_sender("", envelope, HeaderBlock(content), services);
    return decision;
  }

  HeaderBlock block(content);
  auto ids = block.all(kTenantHeader);
  if (ids.empty())
    return {refused("Message refused: no X-MS-Exchange-CrossTenant-Id header"), false, ""};
  if (ids.size() > 1)
    return {refused("Message refused: several X-MS-Exchange-CrossTenant-Id headers"), false, ""};
  std::string tenant_id = to_lower_ascii(HeaderBlock::unfolded(ids.front()->value));
  if (!is_tenant_guid(tenant_id))
    return {refused("Message refused: X-MS-Exchange-CrossTenant-Id is not a tenant id"), false, ""};
  decision.tenant = tenant_id;
  if (!contains(c->tenants, tenant_id)) {
    decision.verdict =
        refused(fmt::format("Message refused: tenant {} is not accepted by "
                            "connector {}",
                            tenant_id, c->name));
    return decision;
  }
  const Tenant* tenant = config_.tenant(tenant_id);
  auto org = single_value(block, "X-OriginatorOrg");  // recorded; checked where configured
  if (tenant != nullptr && tenant->check_originator_org) {
    if (!org || !domain_in(tenant->domains, to_lower_ascii(*org))) {
      decision.verdict =
          refused(fmt::format("Message refused: X-OriginatorOrg {} does not belong "
                              "to the tenant",
                              org ? *org : "(missing or repeated)"));
      return decision;
    }
  }
  // "Validate connector" in the Exchange admin centre: accept, do not deliver.
  auto from = single_value(block, "From");
  std::string from_address = from ? address_in_header(*from) : "";
  std::size_t at = from_address.rfind('@');
  if (envelope.sender.null() && at != std::string::npos &&
      iequals_ascii(from_address.substr(0, at), "O365ConnectorValidation") &&
      to_lower_ascii(from_address).ends_with(".onmicrosoft.com")) {
    decision.discard = true;
    decision.verdict = Verdict::accept("connector validation probe of tenant " + tenant_id);
    return decision;
  }
  if (!services.empty() && !c->allow_internet_mail) {
    auto auth_as = single_value(block, "X-MS-Exchange-CrossTenant-AuthAs");
    auto entity = single_value(block, "X-MS-Exchange-CrossTenant-FromEntityHeader");
    if ((auth_as && iequals_ascii(*auth_as, "Anonymous")) ||
        (entity && iequals_ascii(*entity, "Internet"))) {
      decision.verdict = refused(
          "Message refused: mail that entered the tenant from the internet may not use this "
          "service");
      return decision;
    }
  }
  if (!services.empty()) decision.verdict = check_sender(tenant_id, envelope, block, services);
  if (decision.verdict.accepted) {
    std::string detail = decision.verdict.reason;
    decision.verdict.reason =
        fmt::format("tenant {} verified, X-OriginatorOrg {}{}{}", tenant_id, org ? *org : "(none)",
                    detail.empty() ? "" : "; ", detail);
  }
  return decision;
}

}  // namespace bh
