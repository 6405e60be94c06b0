#include "tls/name_match.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace bh::tls {
namespace {

std::string normalized(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Non-empty labels separated by single dots, no "*" anywhere.
bool plain_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  if (name.find('*') != std::string_view::npos) return false;
  return name.find("..") == std::string_view::npos;
}

// Wildcard check on a normalized pattern.
bool wildcard(std::string_view pattern) {
  if (!pattern.starts_with("*.")) return false;
  std::string_view rest = pattern.substr(2);
  return plain_name(rest) && rest.find('.') != std::string_view::npos;
}

}  // namespace

bool valid_wildcard(std::string_view pattern) {
  return wildcard(normalized(pattern));
}

bool is_ip_literal(std::string_view text) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return false;
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, s.c_str(), &v4) == 1 || inet_pton(AF_INET6, s.c_str(), &v6) == 1;
}

bool name_matches(std::string_view pattern_in, std::string_view host_in) {
  std::string pattern = normalized(pattern_in);
  std::string host = normalized(host_in);
  if (wildcard(pattern)) {
    if (host == pattern) return true;  // the same wildcard: the same set of names
    if (!plain_name(host) || is_ip_literal(host)) return false;
    std::size_t dot = host.find('.');
    return dot != std::string::npos && std::string_view(host).substr(dot + 1) == pattern.substr(2);
  }
  return plain_name(pattern) && pattern == host;
}

bool certificate_matches(std::string_view expected, const std::vector<std::string>& dns_names,
                         std::string_view common_name) {
  auto matches = [&](std::string_view name) {
    return name_matches(expected, name) || name_matches(name, expected);
  };
  if (!dns_names.empty()) {
    for (const auto& name : dns_names)
      if (matches(name)) return true;
    return false;
  }
  return !common_name.empty() && matches(common_name);
}

std::string sni_name(std::string_view tls_domain, std::string_view host) {
  std::string name = normalized(tls_domain);
  if (name.empty() || name.find('*') != std::string::npos) name = normalized(host);
  if (!plain_name(name) || is_ip_literal(name)) return {};
  return name;
}

}  // namespace bh::tls
