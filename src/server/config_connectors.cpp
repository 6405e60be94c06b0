#include <arpa/inet.h>

#include <cctype>

#include "mail/address.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {

std::string hostname_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  for (unsigned char c : name)
    if (c <= ' ' || c >= 0x7F) return "must not contain spaces, control characters or 8-bit bytes";
  unsigned char binary[sizeof(in6_addr)];
  if (name.front() == '[') {
    if (name.back() != ']') return "an address literal must end with ']'";
    std::string inner(name.substr(1, name.size() - 2));
    bool v6 = inner.size() > 5 && to_lower_ascii(inner.substr(0, 5)) == "ipv6:";
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

void read_dns(TableReader& r, dns::ResolverSettings& dns) {
  r.text("resolv_conf", dns.resolv_conf);
  r.text("hosts_file", dns.hosts_file);
  if (r.table().contains("local_data"))
    r.strings("local_data", dns.local_data, false);
  else
    r.node("local_data");
}

connectors::ConnectorSettings read_connector(TableReader& r, const std::string& hostname) {
  connectors::ConnectorSettings c;
  r.text("name", c.name, true);
  r.text("type", c.type, true);
  if (!c.type.empty() && !connectors::known_type(c.type))
    r.error(*r.node("type"), "type", "unknown connector type \"" + c.type + "\"");
  if (c.type == "file") r.path("directory", c.directory, true);
  if (c.type != "smtp") return c;

  connectors::SmtpConnectorSettings& s = c.smtp;
  s.name = c.name;
  s.helo_name = hostname;
  std::vector<std::string> smarthosts;
  if (r.table().contains("smarthosts")) r.strings("smarthosts", smarthosts, true);
  for (const std::string& entry : smarthosts) {
    connectors::HostPort host;
    if (!parse_host_and_port(entry, host.host, host.port, 25))
      r.error(*r.node("smarthosts"), "smarthosts", "\"" + entry + "\" is not HOST[:PORT]");
    s.smarthosts.push_back(host);
  }
  r.number("port", s.mx_port, 1, 65535);
  std::string policy = "opportunistic";
  r.text("tls", policy);
  if (auto parsed = tls::client_policy_from(policy)) {
    s.tls.policy = *parsed;
  } else {
    r.error(*r.node("tls"), "tls", "must be none, opportunistic, encrypt, verify or domain");
  }
  r.text("tls_domain", s.tls_domain);
  if (!s.tls_domain.empty()) {
    // "*.example.com" matches one label under example.com; "*.com" would match
    // every name in a top-level domain, so it is refused like any bad name.
    bool wildcard = s.tls_domain.starts_with("*.");
    std::string name = wildcard ? s.tls_domain.substr(2) : s.tls_domain;
    std::string problem = hostname_problem(name);
    if (problem.empty() && wildcard && name.find('.') == std::string::npos)
      problem = "is a wildcard over a whole top-level domain";
    if (!problem.empty())
      r.error(*r.node("tls_domain"), "tls_domain",
              "\"" + printable(s.tls_domain) + "\" " + problem);
  }
  r.path("ca_file", s.tls.ca_file);
  r.path("client_certificate", s.tls.client_certificate);
  r.path("client_key", s.tls.client_key);
  if (s.tls.client_certificate.empty() != s.tls.client_key.empty())
    r.error(*r.node(s.tls.client_key.empty() ? "client_certificate" : "client_key"), "client_key",
            "client_certificate and client_key go together");
  if (r.table().contains("helo_name")) {
    r.text("helo_name", s.helo_name);
    if (r.node("helo_name")->is_string())
      if (std::string problem = hostname_problem(s.helo_name); !problem.empty())
        r.error(*r.node("helo_name"), "helo_name", "\"" + printable(s.helo_name) + "\" " + problem);
  }
  r.number("max_connections", s.max_connections, 1, 1000);
  r.number("max_total_connections", s.max_total_connections, 1, 10000);
  r.number("max_messages_per_connection", s.max_messages_per_connection, 1, 100000);
  std::int64_t seconds = s.connect_timeout.count();
  r.number("connect_timeout", seconds, 1, 3600);
  s.connect_timeout = std::chrono::seconds(seconds);
  seconds = s.command_timeout.count();
  r.number("command_timeout", seconds, 1, 3600);
  s.command_timeout = std::chrono::seconds(seconds);
  seconds = s.data_timeout.count();
  r.number("data_timeout", seconds, 1, 7200);
  s.data_timeout = std::chrono::seconds(seconds);
  seconds = s.idle_time.count();
  r.number("idle_time", seconds, 0, 300);
  s.idle_time = std::chrono::seconds(seconds);
  return c;
}

}  // namespace bh::config_detail
