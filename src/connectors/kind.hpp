// A connector kind as a plug-in: one folder src/connectors/<kind>/ with its
// settings parser, its factory and a README, listed once in kinds.cpp.
// Core reads the keys every connector has (name, type, pending_timeout) and
// hands the rest of the [[connector]] table to the kind, whose reader
// reports unknown keys with file and line like the rest of the config.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"
#include "dns/resolver_settings.hpp"
#include "util/result.hpp"
#include "util/table_reader.hpp"

namespace bh::connectors {

// What the gateway gives every kind when its settings are read.
struct KindEnvironment {
  std::string connector_name;
  std::string hostname;       // the gateway's name (HELO, Reporting-MTA)
  dns::ResolverSettings dns;  // [dns]
};

// A kind's parsed settings: builds the connector, and names what
// check-config should open before the gateway starts.
class ConnectorSpec {
 public:
  virtual ~ConnectorSpec() = default;
  virtual Result<std::shared_ptr<Connector>> build() const = 0;
  // Problems with files and certificates the settings name ("" when fine).
  virtual std::vector<std::string> check_resources() const { return {}; }
};

struct KindDefinition {
  std::string_view name;
  // Reads the kind's own keys from the connector's table. Errors go to the
  // reader; the returned spec is used only when there were none.
  std::shared_ptr<const ConnectorSpec> (*read)(TableReader& table, const KindEnvironment& env);
  // The service every recipient this kind delivers to uses ("fax"; empty:
  // none). However a recipient reaches such a connector (a route, a scoped
  // route, a transport rule), its sender needs that permission and the
  // connection's inbound connector must offer it, as for a route's service.
  std::string_view service = {};
};

std::span<const KindDefinition> connector_kinds();
const KindDefinition* find_kind(std::string_view name);

}  // namespace bh::connectors
