// The routing table: which connector delivers mail for a recipient. Routes
// name address spaces as Exchange Online has them: full addresses
// ("fax@example.com"), domains, "*.example.com" (every subdomain) and "*"
// (every domain). The most specific match wins, whatever the order in the
// file. A recipient that matches no route is not accepted (no open relay).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

struct Address;

struct Route {
  std::vector<std::string> domains;  // address spaces, lower case
  std::string connector;
  std::string service;  // e.g. "fax": senders need this permission (empty: none needed)
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
  RoutingTable() = default;
  explicit RoutingTable(std::vector<Route> routes) : routes_(std::move(routes)) {}

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

  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* best(std::string_view local, std::string_view domain, const RouteScope& scope) const;

  std::vector<Route> routes_;
};

bool domain_matches(std::string_view pattern, std::string_view domain);

}  // namespace bh
