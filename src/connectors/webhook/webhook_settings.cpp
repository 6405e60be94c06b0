#include "connectors/webhook/webhook_settings.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "mail/address.hpp"  // to_lower_ascii
#include "util/host_syntax.hpp"
#include "util/secret_file.hpp"

namespace bh::connectors::webhook {

std::string WebhookUrl::host_header() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (https ? 443 : 80)) name += ":" + std::to_string(port);
  return name;
}

std::string parse_webhook_url(std::string_view text, bool allow_http, WebhookUrl& out) {
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
      return "may hold printable ASCII only (percent-encode the rest)";
  std::string lower = to_lower_ascii(text.substr(0, 8));
  std::string_view rest;
  if (lower.starts_with("https://")) {
    out.https = true;
    rest = text.substr(8);
  } else if (lower.starts_with("http://")) {
    if (!allow_http) return "must start with https:// (http:// only with allow_http = true)";
    out.https = false;
    rest = text.substr(7);
  } else {
    return "must start with https://";
  }
  if (rest.find('#') != std::string_view::npos) return "must not have a #fragment";
  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  out.target =
      authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (out.target.starts_with("?")) out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return "must not carry a user name or password (the signature authenticates)";
  std::string_view host = authority, port;
  bool has_port = false;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has an unclosed [IPv6 address]";
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return "has text after the [IPv6 address]";
    if (!after.empty()) {
      has_port = true;
      port = after.substr(1);
    }
    in6_addr address;
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1)
      return "has a malformed IPv6 address";
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return "names no host";
    in_addr v4;
    if (::inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) {
      // an IPv4 address: the certificate must name it (an IP address SAN)
    } else if (std::string problem = hostname_problem(host); !problem.empty())
      return "host \"" + std::string(host) + "\" " + problem;
  }
  out.host = to_lower_ascii(host);
  out.port = out.https ? 443 : 80;
  if (has_port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size() ||
        value == 0 || value > 65535)
      return "has a bad port (1 to 65535)";
    out.port = static_cast<std::uint16_t>(value);
  }
  return {};
}

Result<std::string> read_webhook_secret(const std::string& path, std::string_view what) {
  // A final newline (echo, openssl rand -hex) is not part of the secret.
  auto read = read_secret_file(path, what, kMaxSecretBytes + 2);
  if (!read) return read.error();
  std::string secret = std::move(*read);
  if (secret.ends_with("\r\n"))
    secret.resize(secret.size() - 2);
  else if (secret.ends_with("\n"))
    secret.pop_back();
  if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes)
    return Error{
        fmt::format("{} {}: {} bytes; it must hold {} to {} (e.g. openssl rand -hex 32 > {})", what,
                    path, secret.size(), kMinSecretBytes, kMaxSecretBytes, path)};
  return secret;
}

}  // namespace bh::connectors::webhook
