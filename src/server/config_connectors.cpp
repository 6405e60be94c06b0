#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "directory/directory.hpp"
#include "mail/address.hpp"
#include "server/config.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

namespace bh {

RoutingTable::ConnectorServices connector_services(
    const std::vector<connectors::ConnectorSettings>& connectors) {
  RoutingTable::ConnectorServices services;
  for (const auto& c : connectors)
    if (const connectors::KindDefinition* kind = connectors::find_kind(c.type);
        kind != nullptr && !kind->service.empty())
      services.emplace(c.name, kind->service);
  return services;
}

}  // namespace bh

namespace bh::config_detail {

void read_route_target(TableReader& r, Route& route,
                       const std::vector<connectors::ConnectorSettings>& connectors) {
  r.text("connector", route.connector, true);
  r.text("service", route.service);
  route.service = to_lower_ascii(route.service);
  bool named = r.table().contains("service");
  bool valid = !named || directory::valid_service_name(route.service);
  if (!valid)
    r.error(*r.node("service"), "service",
            "\"" + printable(route.service) +
                "\" is not a service name (lower-case letters, digits, '-' and '_', 1 to 32)");
  if (route.connector.empty()) return;
  auto target = std::find_if(connectors.begin(), connectors.end(),
                             [&](const auto& c) { return c.name == route.connector; });
  if (target == connectors.end()) {
    r.error(*r.node("connector"), "connector",
            "connector \"" + printable(route.connector) + "\" is not defined");
    return;
  }
  const connectors::KindDefinition* kind = connectors::find_kind(target->type);
  if (kind == nullptr || kind->service.empty() || !valid) return;
  if (named && route.service != kind->service) {
    r.error(*r.node("service"), "service",
            fmt::format("\"{}\" contradicts connector \"{}\": a {} connector's recipients use "
                        "the {} service",
                        printable(route.service), printable(route.connector), kind->name,
                        kind->service));
    return;
  }
  route.service = kind->service;  // implied: the sender needs the permission all the same
}

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
  r.number("pending_timeout", seconds, 1, connectors::kMaxPendingTimeoutSeconds);
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
