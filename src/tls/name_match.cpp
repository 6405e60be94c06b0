#include "tls/name_match.hpp"

#include "mail/address.hpp"

namespace bh::tls {

bool name_matches(std::string_view pattern_in, std::string_view host_in) {
  std::string pattern = to_lower_ascii(pattern_in);
  std::string host = to_lower_ascii(host_in);
  if (!pattern.empty() && pattern.back() == '.') pattern.pop_back();
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (pattern.empty() || host.empty()) return false;
  if (pattern.starts_with("*.")) {
    std::size_t dot = host.find('.');
    if (dot == std::string::npos || dot == 0) return false;
    return host.substr(dot) == pattern.substr(1) && pattern.size() > 2;
  }
  return pattern == host;
}

bool certificate_matches(std::string_view expected, const std::vector<std::string>& dns_names,
                         std::string_view common_name) {
  if (!dns_names.empty()) {
    for (const auto& name : dns_names)
      if (name_matches(name, expected) || name_matches(expected, name)) return true;
    return false;
  }
  return name_matches(common_name, expected) || name_matches(expected, common_name);
}

}  // namespace bh::tls
