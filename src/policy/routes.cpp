#include "policy/routes.hpp"

#include "mail/address.hpp"

namespace bh {
namespace {

// How specific a matching address space is (-1: no match), as Exchange
// Online ranks them: a full address over a domain over the longest
// "*.suffix" over "*".
long match_rank(std::string_view pattern, std::string_view local, std::string_view domain) {
  if (std::size_t at = pattern.rfind('@'); at != std::string_view::npos)
    return !local.empty() && pattern.substr(0, at) == local && pattern.substr(at + 1) == domain
               ? 3'000'000
               : -1;
  if (pattern == "*") return 0;
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    if (domain.size() > suffix.size() && domain.ends_with(suffix))
      return 1'000 + static_cast<long>(suffix.size());
    return -1;
  }
  return pattern == domain ? 2'000'000 : -1;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& item : list)
    if (item == value) return true;
  return false;
}

// -1: the scope excludes the message; else how specific the scope is.
long scope_rank(const Route& route, const RouteScope& scope) {
  if (!route.from_connectors.empty() && !contains(route.from_connectors, scope.inbound_connector))
    return -1;
  if (!route.from_tenants.empty() && scope.tenant_known &&
      !contains(route.from_tenants, scope.tenant))
    return -1;
  return (route.from_tenants.empty() ? 0 : 2) + (route.from_connectors.empty() ? 0 : 1);
}

}  // namespace

bool domain_matches(std::string_view pattern, std::string_view domain) {
  return match_rank(pattern, {}, domain) >= 0;
}

const Route* RoutingTable::best(std::string_view local, std::string_view domain,
                                const RouteScope& scope) const {
  const Route* found = nullptr;
  long found_rank = -1;
  for (const Route& route : routes_) {
    long scoped = scope_rank(route, scope);
    if (scoped < 0) continue;
    for (const std::string& pattern : route.domains) {
      long address_rank = match_rank(pattern, local, domain);
      if (address_rank < 0) continue;
      long rank = address_rank * 4 + scoped;
      if (rank > found_rank) {  // ties keep the earlier route (check-config refuses them)
        found = &route;
        found_rank = rank;
      }
    }
  }
  return found;
}

const Route* RoutingTable::find(std::string_view domain) const {
  return best({}, domain, RouteScope{});
}

const Route* RoutingTable::find(const Address& address, const RouteScope& scope) const {
  return best(to_lower_ascii(address.local), address.domain_key(), scope);
}

const Route* RoutingTable::find_by_connector(std::string_view connector) const {
  for (const Route& route : routes_)
    if (route.connector == connector) return &route;
  return nullptr;
}

std::string_view RoutingTable::service_of(const Route& route) const {
  auto kind = connector_services_.find(route.connector);
  return kind != connector_services_.end() ? std::string_view(kind->second) : route.service;
}

std::string_view RoutingTable::service_of_connector(std::string_view connector) const {
  if (auto kind = connector_services_.find(connector); kind != connector_services_.end())
    return kind->second;
  const Route* named = find_by_connector(connector);
  return named ? std::string_view(named->service) : std::string_view();
}

}  // namespace bh
