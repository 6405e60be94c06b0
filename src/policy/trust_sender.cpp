// Whether the sender of a message may use the services it addresses: the
// sending tenant, the sender's directory entry and the sender shown in the
// header (aliases, send-as delegations, permissions).
#include <algorithm>

#include <fmt/format.h>

#include "policy/trust_policy.hpp"
#include "policy/trust_policy_internal.hpp"
#include "util/printable.hpp"

namespace bh {
using namespace trust_detail;
namespace {

// An address from the parser in a reply: printable ASCII or valid UTF-8
// without control characters (the parser refuses everything else), and
// never '\r' or '\n'. Empty when it cannot be shown.
std::string printable_address(const std::string& address) {
  if (address.size() > 320 || !valid_utf8(address)) return {};
  bool control = std::any_of(address.begin(), address.end(),
                             [](unsigned char c) { return c < 0x20 || c == 0x7F; });
  return control ? std::string() : address;
}

}  // namespace

std::optional<Tenant> TrustPolicy::known_tenant(const std::string& id, bool directory_tenants,
                                                std::string& unavailable) const {
  // A [[tenant]] is authoritative: its domains are the configured ones
  // (pushed domains are self-asserted by the tenant's token, not merged in).
  if (const Tenant* configured = config_.tenant(id)) return *configured;
  // A tenant known only from the directory counts where the connector opts in.
  if (!directory_tenants || !directory_) return std::nullopt;
  directory::Lookup<directory::Tenant> pushed = directory_->tenant(id);
  if (pushed.is_unavailable()) {
    unavailable = pushed.reason;
    return std::nullopt;
  }
  if (!pushed.is_found()) return std::nullopt;
  return Tenant{id, pushed->name, pushed->domains};
}

Verdict TrustPolicy::check_sender(const std::string& tenant_id, bool directory_tenants,
                                  const Envelope& envelope, const HeaderBlock& header,
                                  const std::set<std::string>& services) const {
  std::string sender = envelope.sender.text();
  std::string first_service = *services.begin();
  auto not_permitted = [&](const std::string& service, std::string reason) {
    return refused(
        fmt::format("Sender <{}> is not permitted to use the {} service", sender, service),
        std::move(reason));
  };
  if (envelope.sender.null()) return not_permitted(first_service, "null sender");
  using UserLookup = directory::Lookup<directory::User>;
  auto find_user = [&](const std::string& address) {
    return directory_ ? directory_->find_user(address) : UserLookup::absent();
  };
  UserLookup user = find_user(sender);
  if (user.is_unavailable()) return directory_unavailable(user.reason);
  std::string tenant_of_message = tenant_id.empty() && user.is_found() ? user->tenant : tenant_id;
  std::string unavailable;
  std::optional<Tenant> tenant = known_tenant(tenant_of_message, directory_tenants, unavailable);
  if (!unavailable.empty()) return directory_unavailable(unavailable);
  if (!tenant)
    return tenant_id.empty() ? not_permitted(first_service, "sender not in the directory")
                             : refused("Message refused: the sending tenant is not known here",
                                       "tenant " + tenant_of_message + " not configured");
  if (!domain_in(tenant->domains, envelope.sender.domain_key()))
    return refused(fmt::format("Sender <{}> does not belong to the sending tenant", sender),
                   fmt::format("sender domain not a domain of tenant {}", tenant->id));
  ShownSender shown = shown_sender(header);
  if (!shown.reply.empty()) return refused(shown.reply, shown.reason);
  for (const Mailbox& m : shown.from)
    if (!domain_in(tenant->domains, domain_key_of(m)))
      return refused(
          "From: address does not belong to the sending tenant",
          fmt::format("From: domain '{}' not a domain of tenant {}", m.domain, tenant->id));
  if (shown.checked_is_sender && !domain_in(tenant->domains, domain_key_of(shown.checked)))
    return refused("Sender: address does not belong to the sending tenant",
                   fmt::format("Sender: domain '{}' not a domain of tenant {}",
                               shown.checked.domain, tenant->id));
  for (const std::string& service : services) {
    if (!user.is_found()) return not_permitted(service, "sender not in the directory");
    if (user->tenant != tenant->id)
      return not_permitted(service, "directory entry belongs to tenant " + user->tenant);
    if (!user->may(service)) return not_permitted(service, "no " + service + " permission");
  }
  // The sender shown (fax cover page, SMS) must be allowed too: the same
  // user (an alias), a mailbox the sender may send as (delegation), or a
  // user of the tenant with the permission.
  const Mailbox& from = shown.checked;
  std::string field = shown.checked_is_sender ? "Sender:" : "From:";
  bool same_as_envelope =
      from.local == envelope.sender.local && domain_key_of(from) == envelope.sender.domain_key();
  std::string how = same_as_envelope ? "" : ", " + field + " mailbox allowed too";
  if (tenant->sender_check == SenderCheck::envelope_and_from && !same_as_envelope) {
    std::string address = from.address();
    std::string shown_address = printable_address(address);
    auto from_not_permitted = [&](const std::string& service, std::string reason) {
      return refused(
          shown_address.empty()
              ? fmt::format("The {} address is not permitted to use the {} service", field, service)
              : fmt::format("{} <{}> is not permitted to use the {} service", field, shown_address,
                            service),
          field + " mailbox " + reason);
    };
    UserLookup from_user = find_user(address);
    if (from_user.is_unavailable()) return directory_unavailable(from_user.reason);
    std::string lower = to_lower_ascii(address);
    // A delegation counts only for a mailbox of the sender's tenant: never
    // for another tenant's directory user, never outside the tenant's
    // domains (send_as is checked when written too; this holds for data
    // written before).
    bool other_tenants_user = from_user.is_found() && from_user->tenant != tenant->id;
    bool delegated = !other_tenants_user && domain_in(tenant->domains, domain_key_of(from)) &&
                     (contains(user->send_as, lower) ||
                      (from_user.is_found() && contains(user->send_as, from_user->address)));
    if (from_user.is_found() && from_user->address == user->address) {
      how = ", " + field + " mailbox is an alias of the sender";
    } else if (delegated) {
      how = ", " + field + " mailbox by send-as delegation";
    } else {
      for (const std::string& service : services) {
        if (!from_user.is_found()) return from_not_permitted(service, "not in the directory");
        if (from_user->tenant != tenant->id)
          return from_not_permitted(service, "belongs to tenant " + from_user->tenant);
        if (!from_user->may(service))
          return from_not_permitted(service, "has no " + service + " permission");
      }
    }
  }
  return Verdict::accept(
      fmt::format("sender allowed for {} in tenant {}{}", first_service, tenant->id,
                  tenant->sender_check == SenderCheck::envelope ? " (envelope sender only)" : how));
}

}  // namespace bh
