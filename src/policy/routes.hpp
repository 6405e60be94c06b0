// The routing table: which connector delivers mail for a recipient domain.
// A recipient that matches no route is not accepted (no open relay).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

struct Route {
  std::vector<std::string> domains;  // "example.com" or "*.example.com", lower case
  std::string connector;
  std::string service;  // e.g. "fax": senders need this permission (empty: none needed)
  // Local parts with '%', '!' or a quoted '@' (sender-specified routing) are
  // refused unless this is set (Postfix's allow_untrusted_routing).
  bool allow_routed_addresses = false;
};

class RoutingTable {
 public:
  RoutingTable() = default;
  explicit RoutingTable(std::vector<Route> routes) : routes_(std::move(routes)) {}

  // domain must be lower case without a trailing dot (Address::domain_key).
  // First matching route wins, in configuration order.
  const Route* find(std::string_view domain) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

bool domain_matches(std::string_view pattern, std::string_view domain);

}  // namespace bh
