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

}  // namespace

bool domain_matches(std::string_view pattern, std::string_view domain) {
  return match_rank(pattern, {}, domain) >= 0;
}

const Route* RoutingTable::best(std::string_view local, std::string_view domain) const {
  const Route* found = nullptr;
  long found_rank = -1;
  for (const Route& route : routes_) {
    for (const std::string& pattern : route.domains) {
      long rank = match_rank(pattern, local, domain);
      if (rank > found_rank) {  // ties keep the earlier route (check-config refuses them)
        found = &route;
        found_rank = rank;
      }
    }
  }
  return found;
}

const Route* RoutingTable::find(std::string_view domain) const {
  return best({}, domain);
}

const Route* RoutingTable::find(const Address& address) const {
  return best(to_lower_ascii(address.local), address.domain_key());
}

}  // namespace bh
