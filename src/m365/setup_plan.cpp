// The checks of `bridgehead m365 setup` (docs/m365-setup.md, "What the
// generator checks"): every way the configuration cannot work with the
// chosen topology is a problem naming its key; the script is written only
// when there are none.
#include <algorithm>

#include <fmt/format.h>

#include "connectors/smtp/smtp_kind.hpp"
#include "m365/powershell.hpp"
#include "m365/setup_plan.hpp"
#include "mail/address.hpp"
#include "server/config.hpp"
#include "tls/name_match.hpp"
#include "util/printable.hpp"

namespace bh::m365::detail {
namespace {

// The name on Exchange Online's certificate, as client and as server.
constexpr std::string_view kExchangeOnlineName = "mail.protection.outlook.com";
// No route names a domain under .invalid (RFC 2606), so the route found for
// it is the one for every other domain ("*"), as the gateway would choose it.
constexpr std::string_view kOtherDomain = "bridgehead-m365-setup.invalid";

std::string q(std::string_view text) {
  return quoted(text);
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (!contains(list, value)) list.push_back(value);
}

// Microsoft keeps the MX of the tenant's onmicrosoft.com domains: mail for
// them never arrives at a gateway the MX points to.
bool microsoft_domain(std::string_view domain) {
  return domain == "onmicrosoft.com" || domain.ends_with(".onmicrosoft.com");
}

class Planner {
 public:
  Planner(const Config& config, const SetupInput& input, Findings& found)
      : config_(config), input_(input), found_(found), table_(config.routes) {
    plan_.topology = input.topology;
    plan_.source = config.source;
  }

  Plan run() {
    Checker checker{config_, input_, found_, plan_};
    tenant_ = choose_tenant();
    check_gateway(checker);
    if (!tenant_) return plan_;
    plan_.tenant_id = tenant_->id;
    plan_.tenant_name = tenant_->name;
    for (const std::string& domain : tenant_->domains)
      if (std::string why = unquotable(domain); !why.empty())
        problem(tenant_key() + "domains: " + q(domain) + " " + why);
    check_inbound_connector();
    check_routes();
    check_tenant_connectors(checker, *tenant_);
    return plan_;
  }

 private:
  void problem(const std::string& text) { found_.problems.push_back(config_.source + ": " + text); }
  std::string tenant_key() const { return "tenant " + q(tenant_->name) + ": "; }
  std::string tenant_text() const { return q(tenant_->name) + " (" + tenant_->id + ")"; }

  const Tenant* choose_tenant() {
    const auto& tenants = config_.trust.tenants;
    std::string list;
    for (const Tenant& t : tenants)
      list += (list.empty() ? "" : ", ") + q(t.name) + " (" + t.id + ")";
    if (tenants.empty()) {
      problem("tenant: no [[tenant]] is configured; the Exchange Online set-up is per tenant");
      return nullptr;
    }
    if (input_.tenant.empty()) {
      if (tenants.size() == 1) return &tenants.front();
      found_.problems.push_back(
          fmt::format("--tenant: {} tenants are configured ({}); name one by id or name",
                      tenants.size(), list));
      return nullptr;
    }
    std::string wanted = to_lower_ascii(input_.tenant);
    std::vector<const Tenant*> matches;
    for (const Tenant& t : tenants)
      if (t.id == wanted || to_lower_ascii(t.name) == wanted) matches.push_back(&t);
    if (matches.size() == 1) return matches.front();
    found_.problems.push_back(
        "--tenant " + q(input_.tenant) +
        (matches.empty() ? ": no [[tenant]] has this id or name (configured: " + list + ")"
                         : ": several tenants have this name; give the id"));
    return nullptr;
  }

  // Every kind of mail Exchange Online sends to the gateway arrives through
  // a microsoft365 connector that accepts the tenant.
  void check_inbound_connector() {
    for (const InboundConnector& c : config_.trust.connectors)
      if (c.kind == ConnectorKind::microsoft365 && contains(c.tenants, tenant_->id)) {
        inbound_ = &c;
        break;
      }
    if (!inbound_) {
      problem("inbound_connector: no microsoft365 connector lists tenant " + tenant_text() +
              " in its tenants: the gateway would refuse the tenant's mail");
      return;
    }
    plan_.inbound_connector = inbound_->name;
    std::string key = "inbound_connector " + q(inbound_->name) + ": ";
    bool exchange = std::any_of(
        inbound_->certificate_names.begin(), inbound_->certificate_names.end(),
        [](const std::string& name) { return tls::name_matches(name, kExchangeOnlineName); });
    if (!exchange)
      problem(key + "certificate_names: none of " + joined(inbound_->certificate_names) +
              " matches " + std::string(kExchangeOnlineName) +
              ", the name on Exchange Online's client certificate");
    if (input_.topology == Topology::service && inbound_->services.empty())
      problem(key + "services: none, so the tenant's mail may use no service route");
  }

  struct Target {
    const Route* route = nullptr;
    std::size_t index = 0;
    const connectors::ConnectorSettings* connector = nullptr;
    const connectors::SmtpConnectorSettings* smtp = nullptr;
  };

  Target find(std::string_view domain, const RouteScope& scope) const {
    Target t;
    t.route = table_.find(Address{"", std::string(domain)}, scope);
    if (!t.route) return t;
    t.index = static_cast<std::size_t>(t.route - table_.routes().data());
    for (const auto& c : config_.connectors)
      if (c.name == t.route->connector) t.connector = &c;
    if (t.connector) t.smtp = connectors::smtp_settings(t.connector->spec.get());
    return t;
  }

  RouteScope from_tenant() const { return {inbound_ ? inbound_->name : "", tenant_->id, true}; }
  static RouteScope from_internet() { return {"", "", true}; }

  // `what` (e.g. "mail for \"contoso.com\" from the internet") must go to
  // Exchange Online: a smtp connector whose audience is the tenant (it keeps
  // the stamp and the control headers the tenant reads).
  void require_into_tenant(std::string_view domain, const RouteScope& scope,
                           const std::string& what) {
    Target t = find(domain, scope);
    if (!t.route) {
      problem("route: no [[route]] takes " + what + " to Exchange Online");
      return;
    }
    if (!t.smtp || t.smtp->audience != Audience::tenant) {
      std::string kind = t.smtp ? "type = \"smtp\", audience is not \"tenant\""
                                : "type = " + q(t.connector ? t.connector->type : "?");
      problem(
          fmt::format("route[{}]: {} goes to connector {} ({}), not into the tenant: that is a "
                      "smtp connector with audience = \"tenant\"",
                      t.index, what, q(t.route->connector), kind));
      return;
    }
    add_unique(plan_.tenant_connectors, t.connector->name);
  }

  // The domains whose MX points at the gateway: mail for them comes from the
  // internet and must reach the tenant.
  void require_mail_from_internet() {
    for (const std::string& domain : tenant_->domains) {
      if (microsoft_domain(domain)) continue;
      plan_.mx_domains.push_back(domain);
      require_into_tenant(domain, from_internet(), "mail for " + q(domain) + " from the internet");
    }
    if (plan_.mx_domains.empty())
      problem(tenant_key() +
              "domains: only onmicrosoft.com domains, whose MX Microsoft keeps: in "
              "this topology the MX of the tenant's own domain points at the gateway");
  }

  void check_routes() {
    switch (input_.topology) {
      case Topology::davor:
        require_mail_from_internet();
        check_outgoing_to_internet();
        break;
      case Topology::daneben2:
        require_mail_from_internet();
        [[fallthrough]];
      case Topology::daneben1:
        // The rule sends every message through the gateway, which gives it
        // back: mail to other domains and to the tenant's own.
        require_into_tenant(kOtherDomain, from_tenant(), "the tenant's mail to other domains");
        for (const std::string& domain : tenant_->domains)
          require_into_tenant(domain, from_tenant(), "the tenant's mail for " + q(domain));
        if (input_.stamp_key_ids.empty())
          problem("stamp.key_file: " + input_.stamp_key_problem +
                  ": the transport rule's exception names the processed stamp's key id");
        plan_.stamp_key_ids = input_.stamp_key_ids;
        break;
      case Topology::service:
        check_service_routes();
        // Incoming faxes, replies and status reports go to the tenant's users.
        for (const std::string& domain : tenant_->domains)
          if (!microsoft_domain(domain))
            require_into_tenant(domain, {"", tenant_->id, true},
                                "mail for the tenant's users at " + q(domain));
        break;
    }
  }

  // In front of Exchange Online the gateway sends the tenant's mail to the
  // internet itself; back to the tenant it would loop (Exchange Online sends
  // everything for outside domains to the gateway).
  void check_outgoing_to_internet() {
    Target t = find(kOtherDomain, from_tenant());
    std::string what = "the tenant's mail to other domains";
    if (!t.route)
      problem("route: no [[route]] takes " + what +
              " (domains = [\"*\"]): in front of Exchange Online the gateway sends it to the "
              "internet itself");
    else if (!t.smtp)
      problem(fmt::format(
          "route[{}]: {} goes to connector {} (type = {}): in front of Exchange "
          "Online the gateway sends it to the internet (type = \"smtp\")",
          t.index, what, q(t.route->connector), q(t.connector ? t.connector->type : "?")));
    else if (t.smtp->audience == Audience::tenant)
      problem(
          fmt::format("route[{}]: {} goes back to the tenant (connector {}, audience = "
                      "\"tenant\"), and Exchange Online would send it to the gateway again: in "
                      "front of Exchange Online the gateway delivers it itself (audience = "
                      "\"internet\"), or use --topology daneben1",
                      t.index, what, q(t.route->connector)));
  }

  // The service routes this tenant may use: their domains are the outbound
  // connector's RecipientDomains.
  void check_service_routes() {
    if (!inbound_) return;
    for (std::size_t i = 0; i < config_.routes.size(); ++i) {
      const Route& r = config_.routes[i];
      if (r.service.empty() || !contains(inbound_->services, r.service)) continue;
      if (!r.from_tenants.empty() && !contains(r.from_tenants, tenant_->id)) continue;
      if (!r.from_connectors.empty() && !contains(r.from_connectors, inbound_->name)) continue;
      for (const std::string& pattern : r.domains) {
        if (pattern == "*")
          problem(
              fmt::format("route[{}]: domains: \"*\" (service {}): the outbound connector "
                          "would send all of the tenant's mail to the gateway; name the "
                          "service's domains",
                          i, q(r.service)));
        else if (pattern.find('@') != std::string::npos)
          problem(
              fmt::format("route[{}]: domains: {} is a full address: Exchange Online's "
                          "connector routes whole domains (RecipientDomains); give the "
                          "service a domain of its own",
                          i, q(pattern)));
        else
          add_unique(plan_.recipient_domains, pattern);
      }
      add_unique(plan_.services, r.service);
    }
    if (plan_.services.empty())
      problem("route: no [[route]] leads to a service that inbound_connector " + q(inbound_->name) +
              " offers (services = [" + joined(inbound_->services) +
              "]): the tenant would have nothing to send to the gateway");
    plan_.sender_domains = plan_.recipient_domains;
    add_unique(plan_.sender_domains, config_.hostname);  // status reports: MAILER-DAEMON@host
  }

  const Config& config_;
  const SetupInput& input_;
  Findings& found_;
  RoutingTable table_;
  Plan plan_;
  const Tenant* tenant_ = nullptr;
  const InboundConnector* inbound_ = nullptr;
};

}  // namespace

void Checker::problem(const std::string& text) {
  found.problems.push_back(config.source + ": " + text);
}

void Checker::warning(const std::string& text) {
  found.warnings.push_back("warning: " + config.source + ": " + text);
}

std::string quoted(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + printable(v);
  return out.empty() ? "none" : out;
}

Plan make_plan(const Config& config, const SetupInput& input, Findings& found) {
  return Planner(config, input, found).run();
}

}  // namespace bh::m365::detail
