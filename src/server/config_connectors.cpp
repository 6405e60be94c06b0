#include <arpa/inet.h>

#include <cctype>

#include "mail/address.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {

void read_dns(TableReader& r, dns::ResolverSettings& dns) {
  r.text("resolv_conf", dns.resolv_conf);
  r.text("hosts_file", dns.hosts_file);
  if (r.table().contains("local_data"))
    r.strings("local_data", dns.local_data, false);
  else
    r.node("local_data");
}

connectors::ConnectorSettings read_connector(TableReader& r, const std::string& hostname,
                                             const dns::ResolverSettings& dns) {
  connectors::ConnectorSettings c;
  r.text("name", c.name, true);
  r.text("type", c.type, true);
  std::int64_t seconds = c.pending_timeout.count();
  r.number("pending_timeout", seconds, 1, 86400 * 30);
  c.pending_timeout = std::chrono::seconds(seconds);
  if (c.type.empty()) return c;
  const connectors::KindDefinition* kind = connectors::find_kind(c.type);
  if (kind == nullptr) {
    std::string known;
    for (const auto& k : connectors::connector_kinds())
      known += (known.empty() ? "" : ", ") + std::string(k.name);
    r.error(*r.node("type"), "type",
            "unknown connector type \"" + printable(c.type) + "\" (known: " + known + ")");
    return c;
  }
  c.spec = kind->read(r, connectors::KindEnvironment{c.name, hostname, dns});
  return c;
}

}  // namespace bh::config_detail
