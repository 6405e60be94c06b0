#include "intake/pipeline.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "mail/control_headers.hpp"
#include "mail/header_block.hpp"
#include "mail/header_edit.hpp"

namespace bh::intake {
namespace {

// Where the recipients of one message go, for one tenant.
struct Routing {
  std::vector<std::string> connectors;             // per recipient; "" when nothing routes it
  std::vector<bool> by_rule;                       // per recipient: a transport rule chose it
  std::vector<std::string> services_by_recipient;  // its connector's or route's service, or ""
  std::vector<std::size_t> unrouted;
  std::set<std::string> services;
  RuleOutcome rules;
};

std::string names_of(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

// Only a peer whose identity was verified may bring a stamp we believe:
// a certificate-verified Microsoft 365 connector or an internal one.
bool stamp_trusted(const PolicySet& policy, const Origin& origin) {
  if (origin.source == Source::local) return true;
  const InboundConnector* c = origin.connector;
  return c != nullptr &&
         (c->kind == ConnectorKind::internal || policy.trust.verified_microsoft365(c, origin.peer));
}

Routing route(const PolicySet& policy, const Origin& origin, const Envelope& envelope,
              const std::string& content, std::uint64_t size, const std::string& tenant,
              bool stamp_valid) {
  Routing routing;
  HeaderBlock header(content);
  RuleInput input;
  input.sender = envelope.sender;
  for (const Recipient& r : envelope.recipients) input.recipients.push_back(r.address);
  input.header = &header;
  input.inbound_connector = origin.connector ? origin.connector->name : "";
  input.tenant = tenant;
  input.client_ip = origin.peer.ip;
  input.size = size;
  input.stamp_valid = stamp_valid;
  routing.rules = policy.rules->evaluate(input);
  RouteScope scope{input.inbound_connector, tenant, true};
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    const std::optional<std::string>* chosen =
        i < routing.rules.routes.size() ? &routing.rules.routes[i] : nullptr;
    std::string connector;
    std::string service;  // a fax connector's recipient uses "fax", whatever routed it there
    routing.by_rule.push_back(chosen && *chosen);
    if (chosen && *chosen) {
      connector = **chosen;
      service = policy.routes.service_of_connector(connector);
    } else if (const Route* found = policy.routes.find(envelope.recipients[i].address, scope)) {
      connector = found->connector;
      service = policy.routes.service_of(*found);
    }
    if (connector.empty()) routing.unrouted.push_back(i);
    if (!service.empty()) routing.services.insert(service);
    routing.services_by_recipient.push_back(std::move(service));
    routing.connectors.push_back(std::move(connector));
  }
  return routing;
}

// A fax or SMS that came in: composed by the gateway from what a foreign
// system handed over, with the tenant the directory gave its number.
bool received_from_foreign_system(Source source) {
  return source == Source::fax || source == Source::sms;
}

// "rule tag: add X-Tag: fax", "rule tag: set Subject: [fax] x (replaced 1
// field)", "rule strip: removed 2 X-Internal fields".
std::string describe_header_edit(const HeaderEdit& edit, const std::string& rule,
                                 std::size_t removed) {
  switch (edit.kind) {
    case HeaderEdit::Kind::add:
      return fmt::format("rule {}: add {}: {}", rule, edit.name, edit.value);
    case HeaderEdit::Kind::set:
      return removed == 0 ? fmt::format("rule {}: set {}: {}", rule, edit.name, edit.value)
                          : fmt::format("rule {}: set {}: {} (replaced {} field{})", rule,
                                        edit.name, edit.value, removed, removed == 1 ? "" : "s");
    case HeaderEdit::Kind::remove:
      return fmt::format("rule {}: removed {} {} field{}", rule, removed, edit.name,
                         removed == 1 ? "" : "s");
  }
  return fmt::format("rule {}: edit {}", rule, edit.name);
}

}  // namespace

std::string_view source_name(Source source) {
  switch (source) {
    case Source::smtp:
      return "smtp";
    case Source::fax:
      return "fax";
    case Source::sms:
      return "sms";
    case Source::http:
      return "http";
    case Source::local:
      return "local";
  }
  return "unknown";
}

Verdict Pipeline::recipient(const Origin& origin, const Address& sender, const Recipient& recipient,
                            std::string* stage) const {
  auto at = [&](const char* name, Verdict verdict) {
    if (stage) *stage = name;
    return verdict;
  };
  RouteScope scope{origin.connector ? std::string_view(origin.connector->name) : "", "", false};
  const Route* route = policy_->routes.find(recipient.address, scope);
  // No open relay: an address no route takes (from this connection, for
  // any tenant) is refused here; transport rules only redirect what a
  // route accepts.
  if (route == nullptr)
    return at("route",
              Verdict::refuse(550, "5.7.1",
                              fmt::format("{}: Relay access denied", recipient.address.path()),
                              "no route for " + recipient.address.domain_key()));
  // A next hop that honours '%' or '!' would relay "user%foreign@local" onwards.
  if (has_routing_syntax(recipient.address) && !(route && route->allow_routed_addresses))
    return at("route", Verdict::refuse(550, "5.7.1",
                                       fmt::format("{}: sender-specified routing is not allowed",
                                                   recipient.address.path())));
  return at("rcpt", policy_->trust.on_rcpt(origin.connector, origin.peer, sender, recipient));
}

MessageDecision Pipeline::message(const Origin& origin, Envelope& envelope, std::string& content,
                                  std::size_t& header_size, std::uint64_t size,
                                  std::int64_t now) const {
  const PolicySet& policy = *policy_;
  MessageDecision decision;
  auto note = [&](std::string stage, Verdict verdict, std::string tenant = {}) {
    decision.trace.push_back({std::move(stage), std::move(verdict), std::move(tenant)});
  };
  auto refuse = [&](std::string stage, Verdict verdict, std::string tenant = {}) {
    decision.verdict = verdict;
    note(std::move(stage), std::move(verdict), std::move(tenant));
    return decision;
  };

  if (HopCheck hops = check_hops(HeaderBlock(content), policy.limits.received_headers);
      hops.exceeded)
    return refuse("loop", Verdict::refuse(hops.code, hops.enhanced, hops.reply, hops.reason));

  // Processed stamps: believed only from verified peers, and only when they verify.
  bool stamp_valid = false;
  std::vector<std::string> stamps_removed;
  if (policy.stamp) {
    StampCheck check =
        check_stamps(content, header_size, *policy.stamp, stamp_trusted(policy, origin), now);
    stamp_valid = check.valid_present;
    stamps_removed = std::move(check.removed);
  } else {  // no key: no stamp can be verified, so none is believed
    std::size_t before = content.size();
    stamps_removed = remove_header_fields(
        content, [](std::string_view name) { return iequals_ascii(name, kStampField); });
    header_size -= before - content.size();
    for (auto& reason : stamps_removed) reason = "no_stamp_key";
  }
  if (!stamps_removed.empty())
    note("stamp", Verdict::accept(fmt::format("removed {} processed stamp(s): {}",
                                              stamps_removed.size(), names_of(stamps_removed))));

  // Tenant and sender. The trust stage asks which services the recipients
  // use once it knows the tenant: routing (rules, scoped routes) answers.
  Routing routing;
  std::optional<std::string> routed_for;
  auto route_for = [&](const std::string& tenant) {
    routing = route(policy, origin, envelope, content, size, tenant, stamp_valid);
    routed_for = tenant;
    return routing.services;
  };
  // The gateway's own notices keep the tenant of the message they report on.
  // So does an incoming fax or SMS: its source is authenticated by its own
  // channel (the fax server's folder, the admin API's token, the SMPP
  // bind), not by an inbound connector, its tenant is the one the directory
  // gave the called number, and its content was composed by the gateway
  // (connectors/fax/fax_mail, connectors/sms/sms_mail).
  DataDecision data;
  data.tenant = envelope.tenant;
  if (origin.source != Source::local && !received_from_foreign_system(origin.source)) {
    std::size_t before = content.size();
    data = policy.trust.on_data(origin.connector, origin.peer, envelope, content, route_for);
    header_size -= before - content.size();  // only header fields are removed
  }
  if (!data.removed_headers.empty())
    note("headers_removed",
         Verdict::accept("untrusted connection; removed " + names_of(data.removed_headers) +
                         " from " + envelope.queue_id));
  if (!data.verdict.accepted) return refuse("data", data.verdict, data.tenant);
  if (!data.verdict.reason.empty()) note("data", data.verdict, data.tenant);
  if (data.discard) {
    decision.discard = true;
    return decision;
  }
  envelope.tenant = data.tenant;
  if (routed_for != envelope.tenant) route_for(envelope.tenant);

  const RuleOutcome& rules = routing.rules;
  if (!rules.matched.empty())
    note("rules", Verdict::accept("matched " + names_of(rules.matched)), envelope.tenant);
  if (rules.reject)
    return refuse("rules",
                  Verdict::refuse(rules.reject->code, rules.reject->enhanced, rules.reject->text,
                                  "rule " + rules.rejected_by + " rejects the message"),
                  envelope.tenant);
  // Accepted recipients can only be refused together now: the message is
  // refused when one of them has no route from this tenant.
  if (!routing.unrouted.empty()) {
    const Address& first = envelope.recipients[routing.unrouted.front()].address;
    return refuse(
        "route",
        Verdict::refuse(550, "5.7.1",
                        fmt::format("{}: no route for mail from this sender", first.path()),
                        fmt::format("no route for {} from tenant {}", first.text(),
                                    envelope.tenant.empty() ? "(none)" : envelope.tenant)),
        envelope.tenant);
  }
  // The gateway's own mail (DSNs, reports) and a received fax or SMS
  // skipped the sender check above: nobody holds a permission for them, so
  // they may not reach a service. A DSN to a fax address would make every
  // bounce to a forged sender "+49900...@fax.example.com" a call: it is
  // discarded (a DSN is never bounced; the scheduler logs it). A received
  // fax or SMS is refused.
  if (origin.source == Source::local || received_from_foreign_system(origin.source)) {
    for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
      const std::string& service = routing.services_by_recipient[i];
      if (service.empty()) continue;
      const Address& address = envelope.recipients[i].address;
      std::string why = fmt::format(
          "{} is routed to connector {} (service {}); {} mail has no sender whose "
          "permission could be checked",
          address.text(), routing.connectors[i], service, source_name(origin.source));
      if (received_from_foreign_system(origin.source))
        return refuse(
            "service",
            Verdict::refuse(550, "5.7.1",
                            fmt::format("{}: a received {} may not use the {} service",
                                        address.path(), source_name(origin.source), service),
                            why),
            envelope.tenant);
      decision.discard = true;
      note("service", Verdict::accept("discarded: " + why), envelope.tenant);
      return decision;
    }
  }
  // A tenant's own route may lead to a service RCPT TO could not check yet:
  // the connection's inbound connector must offer it.
  if (origin.source == Source::smtp) {
    for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
      const std::string& service = routing.services_by_recipient[i];
      const InboundConnector* c = origin.connector;
      if (service.empty() || (c != nullptr && std::find(c->services.begin(), c->services.end(),
                                                        service) != c->services.end()))
        continue;
      return refuse(
          "route",
          Verdict::refuse(550, "5.7.1",
                          fmt::format("{}: this connection may not use the {} service",
                                      envelope.recipients[i].address.path(), service),
                          c ? "connector " + c->name + " does not offer service " + service
                            : "no inbound connector matched the connection"),
          envelope.tenant);
    }
  }
  std::vector<std::size_t> fields_removed;
  if (Status edited = apply_header_edits(content, header_size, rules.header_edits, &fields_removed);
      !edited)
    return refuse("rules",
                  Verdict::refuse(451, "4.3.0", "Error: header edit failed; try again later",
                                  edited.error().message));
  // Each field a rule added, replaced or removed, for the trace and the log;
  // a removal of a field the message did not have changed nothing.
  for (std::size_t i = 0; i < rules.header_edits.size(); ++i) {
    const HeaderEdit& edit = rules.header_edits[i];
    if (edit.kind == HeaderEdit::Kind::remove && fields_removed[i] == 0) continue;
    note("header_edit",
         Verdict::accept(describe_header_edit(
             edit, i < rules.header_edited_by.size() ? rules.header_edited_by[i] : std::string(),
             fields_removed[i])),
         envelope.tenant);
  }
  // A rule's choice depends on the content, so it is kept with the
  // recipient; the routing table is asked again at each attempt (with the
  // tenant and inbound connector the envelope keeps), so a reload applies
  // to queued mail as in Postfix and Exchange.
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i)
    envelope.recipients[i].connector = routing.by_rule[i] ? routing.connectors[i] : "";
  if (policy.stamp && !stamp_valid) add_stamp(content, header_size, *policy.stamp, now);
  return decision;
}

}  // namespace bh::intake
