// [admin]: the admin API's listener and its limits (docs/api.md).
#include <arpa/inet.h>

#include "server/config_reader.hpp"

namespace bh::config_detail {
namespace {

// 127.0.0.0/8 and ::1: reachable from this machine only.
bool loopback(const std::string& host) {
  unsigned char binary[sizeof(in6_addr)] = {};
  if (inet_pton(AF_INET, host.c_str(), binary) == 1) return binary[0] == 127;
  static const unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return inet_pton(AF_INET6, host.c_str(), binary) == 1 &&
         std::equal(binary, binary + 16, kV6Loopback);
}

}  // namespace

void read_admin(TableReader& r, admin::AdminSettings& admin) {
  admin.enabled = true;  // a table turns it on, unless it says enabled = false
  r.boolean("enabled", admin.enabled);
  r.text("listen", admin.listen, admin.enabled);
  if (!admin.listen.empty() && !parse_host_and_port(admin.listen, admin.host, admin.port, 0))
    r.error(*r.node("listen"), "listen", "must be IP:PORT, e.g. \"127.0.0.1:8025\"");
  r.path("certificate", admin.certificate);
  r.path("private_key", admin.private_key);
  if (admin.certificate.empty() != admin.private_key.empty()) {
    std::string missing = admin.certificate.empty() ? "certificate" : "private_key";
    r.error(*r.node(admin.certificate.empty() ? "private_key" : "certificate"), missing,
            "certificate and private_key go together");
  }
  if (admin.enabled && !admin.host.empty() && !loopback(admin.host) && admin.certificate.empty())
    r.error(*r.node("listen"), "listen",
            "\"" + admin.listen +
                "\" is not a loopback address: the admin API needs TLS there (certificate and "
                "private_key)");
  r.number("max_body_bytes", admin.max_body_bytes, 1024, std::int64_t{1} << 34);
  r.number("max_header_bytes", admin.max_header_bytes, 1024, 1 << 20);
  r.number("request_timeout", admin.request_timeout_seconds, 1, 3600);
  r.number("idle_timeout", admin.idle_timeout_seconds, 1, 3600);
  r.number("max_connections", admin.max_connections, 1, 100000);
  r.number("workers", admin.workers, 1, admin::kMaxAdminWorkers);
  r.path("token_file", admin.token_file);
}

}  // namespace bh::config_detail
