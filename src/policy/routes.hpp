// The routing table: which connector delivers mail for a recipient. Routes
// name address spaces as Exchange Online has them: full addresses
// ("fax@example.com"), domains, "*.example.com" (every subdomain) and "*"
// (every domain). The most specific match wins, whatever the order in the
// file. A recipient that matches no route is not accepted (no open relay).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

struct Address;

struct Route {
  std::vector<std::string> domains;  // address spaces, lower case
  std::string connector;
  // e.g. "fax": senders need this permission (empty: none needed). A route to
  // a connector whose kind has a service gets it when the config is read.
  std::string service;
  // Local parts with '%', '!' or a quoted '@' (sender-specified routing) are
  // refused unless this is set (Postfix's allow_untrusted_routing).
  bool allow_routed_addresses = false;
  // Scope: the route applies only to mail from these tenants (lower-case
  // GUIDs) and/or through these inbound connectors; empty: from anyone.
  // "Mail from tenant A for * goes back to A's Exchange Online."
  std::vector<std::string> from_tenants;
  std::vector<std::string> from_connectors;
};

// Where a message comes from, for scoped routes. At RCPT TO the tenant is
// not known yet (it comes with the message's header): tenant_known = false
// lets every tenant scope match, so only "is there any route" is answered.
struct RouteScope {
  std::string_view inbound_connector;
  std::string_view tenant;
  bool tenant_known = true;
};

class RoutingTable {
 public:
  // By connector name, the service its kind's recipients use
  // (connectors::KindDefinition::service: "fax" for a fax connector);
  // connectors whose kind has none are not listed.
  using ConnectorServices = std::map<std::string, std::string, std::less<>>;

  RoutingTable() = default;
  explicit RoutingTable(std::vector<Route> routes, ConnectorServices connector_services = {})
      : routes_(std::move(routes)), connector_services_(std::move(connector_services)) {}

  // The recipient's route: full-address spaces compare the local part
  // without case, as Exchange does.
  // Among routes whose scope matches, the most specific address space wins;
  // for the same address space, a scoped route wins over an unscoped one
  // (tenant scope over connector scope).
  const Route* find(const Address& recipient, const RouteScope& scope = {}) const;
  // The route named by connector for a recipient, as a transport rule
  // chose it: nullptr when no connector of that name is routed to.
  const Route* find_by_connector(std::string_view connector) const;
  // Domain spaces only; domain lower case without a trailing dot
  // (Address::domain_key).
  const Route* find(std::string_view domain) const;

  // The service a recipient on this route uses: its connector's kind's
  // service, else the route's own (empty: none).
  std::string_view service_of(const Route& route) const;
  // The service a recipient a transport rule sent to connector uses: the
  // kind's service, else the service of the first route naming connector.
  std::string_view service_of_connector(std::string_view connector) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* best(std::string_view local, std::string_view domain, const RouteScope& scope) const;

  std::vector<Route> routes_;
  ConnectorServices connector_services_;
};

bool domain_matches(std::string_view pattern, std::string_view domain);

}  // namespace bh
