#include "util/host_syntax.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace bh {

std::string hostname_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  for (unsigned char c : name)
    if (c <= ' ' || c >= 0x7F) return "must not contain spaces, control characters or 8-bit bytes";
  unsigned char binary[sizeof(in6_addr)];
  if (name.front() == '[') {
    if (name.back() != ']') return "an address literal must end with ']'";
    std::string inner(name.substr(1, name.size() - 2));
    std::string tag = inner.substr(0, 5);
    for (char& c : tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool v6 = inner.size() > 5 && tag == "ipv6:";
    if (v6 ? inet_pton(AF_INET6, inner.c_str() + 5, binary) == 1
           : inet_pton(AF_INET, inner.c_str(), binary) == 1)
      return "";
    return "is not an address literal (\"[192.0.2.1]\" or \"[IPv6:2001:db8::1]\")";
  }
  if (name.size() > 253) return "must be at most 253 characters";
  if (name.back() == '.') return "must not end with a dot";
  if (std::string text(name); inet_pton(AF_INET, text.c_str(), binary) == 1)
    return "is an IP address: write it as an address literal, \"[" + text + "]\"";
  std::size_t label = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0) return "has an empty label (two dots, or a leading dot)";
      if (label > 63) return "has a label longer than 63 characters";
      if (name[i - 1] == '-') return "has a label that ends with '-'";
      label = 0;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '-' && label == 0) return "has a label that starts with '-'";
    if (!std::isalnum(c) && c != '-') return "may hold only letters, digits, '-' and '.'";
    ++label;
  }
  return "";
}

bool parse_host_and_port(const std::string& text, std::string& host, std::uint16_t& port,
                         std::uint16_t port_default) {
  std::string host_part = text;
  std::string port_part;
  if (!text.empty() && text.front() == '[') {  // [v6]:port
    std::size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host_part = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      port_part = text.substr(close + 2);
    }
  } else if (std::size_t colon = text.rfind(':'); colon != std::string::npos) {
    if (text.find(':') != colon) return false;  // bare IPv6 needs brackets
    host_part = text.substr(0, colon);
    port_part = text.substr(colon + 1);
  }
  unsigned value = port_default;
  if (!port_part.empty() || text.ends_with(":")) {
    if (port_part.empty() || port_part.size() > 5 ||
        port_part.find_first_not_of("0123456789") != std::string::npos)
      return false;
    value = static_cast<unsigned>(std::stoul(port_part));
  }
  if (host_part.empty() || value == 0 || value > 65535) return false;
  // Listeners (port_default 0) need an IP address; smarthosts may be names.
  unsigned char binary[sizeof(in6_addr)];
  bool is_ip = inet_pton(AF_INET, host_part.c_str(), binary) == 1 ||
               inet_pton(AF_INET6, host_part.c_str(), binary) == 1;
  if (port_default == 0 && !is_ip) return false;
  if (!is_ip && host_part.find_first_of(" /@") != std::string::npos) return false;
  host = host_part;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace bh
