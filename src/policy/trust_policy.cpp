// The trust decision at the end of DATA (TrustPolicy::on_data): untrusted
// headers removed, or, on a verified Microsoft 365 connection, the tenant
// header, X-OriginatorOrg, the validation probe and the internet markers;
// then the sender check (trust_sender.cpp).
#include "policy/trust_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "policy/trust_policy_internal.hpp"

namespace bh {
using namespace trust_detail;
namespace {

constexpr std::string_view kTenantHeader = "X-MS-Exchange-CrossTenant-Id";

bool untrusted_header(std::string_view name) {
  return istarts_with_ascii(name, "X-MS-Exchange-CrossTenant-") ||
         istarts_with_ascii(name, "X-MS-Exchange-Organization-");
}

// The single value of a header, if there is exactly one.
std::optional<std::string> single_value(const HeaderBlock& block, std::string_view name) {
  auto fields = block.all(name);
  if (fields.size() != 1) return std::nullopt;
  return HeaderBlock::unfolded(fields.front()->value);
}

}  // namespace

bool is_tenant_guid(std::string_view text) {
  return directory::valid_tenant_id(text);
}

DataDecision TrustPolicy::on_data(const InboundConnector* c, const PeerFacts& peer,
                                  const Envelope& envelope, std::string& content,
                                  const ServicesOf& services_for) const {
  DataDecision decision;
  auto services_of_tenant = [&](const std::string& tenant) {
    return services_for ? services_for(tenant) : services_of(envelope);
  };
  if (!verified_microsoft365(c, peer)) {
    // Never believed from anyone else: removed before the message is queued.
    decision.removed_headers = remove_header_fields(content, untrusted_header);
    std::set<std::string> services = services_of_tenant("");
    if (!services.empty())
      decision.verdict = check_sender("", c != nullptr && c->directory_tenants, envelope,
                                      HeaderBlock(content), services);
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
  bool accepted_tenant = contains(c->tenants, tenant_id);
  if (!accepted_tenant && c->directory_tenants && directory_) {
    auto pushed = directory_->tenant(tenant_id);
    if (pushed.is_unavailable()) {
      decision.verdict = directory_unavailable(pushed.reason);
      return decision;
    }
    accepted_tenant = pushed.is_found();
  }
  if (!accepted_tenant) {
    decision.verdict =
        refused(fmt::format("Message refused: tenant {} is not accepted by "
                            "connector {}",
                            tenant_id, c->name));
    return decision;
  }
  std::set<std::string> services = services_of_tenant(tenant_id);
  auto org = single_value(block, "X-OriginatorOrg");  // recorded; checked where configured
  const Tenant* configured = config_.tenant(tenant_id);
  std::optional<Tenant> tenant;
  // The configured domains are the tenant's (known_tenant): no directory
  // needed.
  if (configured != nullptr && configured->check_originator_org) tenant = *configured;
  if (tenant && tenant->check_originator_org) {
    if (!org || !domain_in(tenant->domains, to_lower_ascii(*org))) {
      std::size_t count = block.all("X-OriginatorOrg").size();
      decision.verdict =
          refused(fmt::format("Message refused: X-OriginatorOrg {} does not belong "
                              "to the tenant",
                              org          ? shown_value(*org)
                              : count == 0 ? "(missing)"
                                           : "(repeated)"));
      return decision;
    }
  }
  // "Validate connector" in the Exchange admin centre: accept, do not deliver.
  // Only a null sender and exactly one well-formed From: with exactly one
  // mailbox O365ConnectorValidation@*.onmicrosoft.com.
  HeaderMailboxes probe_from = header_mailboxes(block, "From");
  if (envelope.sender.null() && probe_from.problem.empty() && probe_from.mailboxes.size() == 1 &&
      iequals_ascii(probe_from.mailboxes.front().local, "O365ConnectorValidation") &&
      domain_key_of(probe_from.mailboxes.front()).ends_with(".onmicrosoft.com")) {
    decision.discard = true;
    decision.verdict = Verdict::accept("connector validation probe of tenant " + tenant_id);
    return decision;
  }
  if (!services.empty() && !c->allow_internet_mail) {
    if (std::string why = internet_marker(block); !why.empty()) {
      decision.verdict = refused(
          "Message refused: mail that entered the tenant from the internet may not use this "
          "service",
          "treated as internet mail: " + why);
      return decision;
    }
  }
  // The connector accepted the tenant: listed in its tenants, or (with
  // directory_tenants) pushed into the directory.
  if (!services.empty())
    decision.verdict = check_sender(tenant_id, true, envelope, block, services);
  if (decision.verdict.accepted) {
    std::string detail = decision.verdict.reason;
    decision.verdict.reason =
        fmt::format("tenant {} verified, X-OriginatorOrg {}{}{}", tenant_id,
                    org ? shown_value(*org) : "(none)", detail.empty() ? "" : "; ", detail);
  }
  return decision;
}

}  // namespace bh
