#include "policy/routes.hpp"

namespace bh {

bool domain_matches(std::string_view pattern, std::string_view domain) {
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return domain.size() > suffix.size() && domain.ends_with(suffix);
  }
  return pattern == domain;
}

const Route* RoutingTable::find(std::string_view domain) const {
  for (const Route& route : routes_)
    for (const std::string& pattern : route.domains)
      if (domain_matches(pattern, domain)) return &route;
  return nullptr;
}

}  // namespace bh
