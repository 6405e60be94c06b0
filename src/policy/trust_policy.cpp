#include "policy/trust_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "mail/mailbox_list.hpp"
#include "tls/name_match.hpp"
#include "util/printable.hpp"

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

bool untrusted_header(std::string_view name) {
  return istarts_with_ascii(name, "X-MS-Exchange-CrossTenant-") ||
         istarts_with_ascii(name, "X-MS-Exchange-Organization-");
}

Verdict refused(std::string reply, std::string reason = {}) {
  return Verdict::refuse(550, "5.7.1", std::move(reply), std::move(reason));
}

// A decision that needs the directory while it cannot be trusted (never
// loaded, or not refreshed for too long): try later, never accept unchecked.
Verdict directory_unavailable(const std::string& why) {
  return Verdict::refuse(451, "4.3.0",
                         "Temporary failure: the directory is unavailable, try again later",
                         "directory unavailable: " + why);
}

// The single value of a header, if there is exactly one.
std::optional<std::string> single_value(const HeaderBlock& block, std::string_view name) {
  auto fields = block.all(name);
  if (fields.size() != 1) return std::nullopt;
  return HeaderBlock::unfolded(fields.front()->value);
}

// Header bytes shown to a client or written to the log only when they are
// short printable ASCII; otherwise a placeholder.
std::string shown_value(std::string_view value, std::size_t max = 100) {
  bool plain =
      !value.empty() && value.size() <= max &&
      std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  return plain ? std::string(value) : std::string("(unprintable or too long)");
}

// An address from the parser in a reply: printable ASCII or valid UTF-8
// without control characters (the parser refuses everything else), and
// never '\r' or '\n'. Empty when it cannot be shown.
std::string printable_address(const std::string& address) {
  if (address.size() > 320 || !valid_utf8(address)) return {};
  bool control = std::any_of(address.begin(), address.end(),
                             [](unsigned char c) { return c < 0x20 || c == 0x7F; });
  return control ? std::string() : address;
}

std::string domain_key_of(const Mailbox& m) {
  return Address{{}, m.domain}.domain_key();
}

// The mailboxes of a From: (or Sender:) header field: exactly one field,
// well-formed, mailboxes only (no group syntax).
struct HeaderMailboxes {
  std::vector<Mailbox> mailboxes;
  std::string problem;  // for the log; empty when usable
};

HeaderMailboxes header_mailboxes(const HeaderBlock& block, std::string_view name) {
  HeaderMailboxes out;
  auto fields = block.all(name);
  if (fields.empty()) {
    out.problem = fmt::format("no {}: header field", name);
    return out;
  }
  if (fields.size() > 1) {
    out.problem = fmt::format("{} {}: header fields", fields.size(), name);
    return out;
  }
  AddressList list = parse_address_list(fields.front()->value);
  if (!list.ok()) {
    out.problem = fmt::format("{}: header field malformed: {}", name, list.error);
  } else if (list.groups != 0) {
    out.problem = fmt::format("{}: header field uses group syntax", name);
  } else {
    out.mailboxes = std::move(list.mailboxes);
  }
  return out;
}

// Who the message says sent it (RFC 5322 3.6.2): every From: mailbox, and
// the one mailbox checked as "the From: mailbox": the only From: mailbox,
// or with several, the single Sender: mailbox.
struct ShownSender {
  std::vector<Mailbox> from;
  Mailbox checked;
  bool checked_is_sender = false;  // from Sender:, because From: lists several
  std::string reply;               // refusal text; empty when usable
  std::string reason;              // for the log
};

ShownSender shown_sender(const HeaderBlock& block) {
  ShownSender out;
  HeaderMailboxes from = header_mailboxes(block, "From");
  if (!from.problem.empty()) {
    out.reply = "Message refused: the message needs exactly one well-formed From: header field";
    out.reason = from.problem;
    return out;
  }
  out.from = std::move(from.mailboxes);
  if (out.from.size() == 1) {
    out.checked = out.from.front();
    return out;
  }
  HeaderMailboxes sender = header_mailboxes(block, "Sender");
  if (sender.problem.empty() && sender.mailboxes.size() != 1)
    sender.problem = fmt::format("Sender: lists {} mailboxes", sender.mailboxes.size());
  if (!sender.problem.empty()) {
    out.reply = "Message refused: From: lists several mailboxes without a single Sender: mailbox";
    out.reason = fmt::format("From: lists {} mailboxes; {}", out.from.size(), sender.problem);
    return out;
  }
  out.checked = sender.mailboxes.front();
  out.checked_is_sender = true;
  return out;
}

// Why a message on a Microsoft 365 connection counts as internet mail, or
// empty when the tenant-side markers say it is the tenant's own: exactly one
// X-MS-Exchange-CrossTenant-AuthAs, "Internal"; FromEntityHeader, when
// present, exactly once and "Hosted". Missing, repeated or other values:
// internet mail.
std::string internet_marker(const HeaderBlock& block) {
  constexpr std::string_view kAuthAs = "X-MS-Exchange-CrossTenant-AuthAs";
  constexpr std::string_view kEntity = "X-MS-Exchange-CrossTenant-FromEntityHeader";
  auto auth = block.all(kAuthAs);
  if (auth.empty()) return fmt::format("no {} header", kAuthAs);
  if (auth.size() > 1) return fmt::format("{} {} headers", auth.size(), kAuthAs);
  std::string auth_value = HeaderBlock::unfolded(auth.front()->value);
  if (!iequals_ascii(auth_value, "Internal"))
    return fmt::format("{} is '{}', not Internal", kAuthAs, shown_value(auth_value));
  auto entity = block.all(kEntity);
  if (entity.size() > 1) return fmt::format("{} {} headers", entity.size(), kEntity);
  if (entity.size() == 1) {
    std::string value = HeaderBlock::unfolded(entity.front()->value);
    if (!iequals_ascii(value, "Hosted"))
      return fmt::format("{} is '{}', not Hosted", kEntity, shown_value(value));
  }
  return {};
}

}  // namespace

bool is_tenant_guid(std::string_view text) {
  return directory::valid_tenant_id(text);
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
