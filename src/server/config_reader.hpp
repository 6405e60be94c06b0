// Reading TOML tables with errors that name file, line and key. Used only
// by the configuration loader (server/config*.cpp).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "util/host_syntax.hpp"
#include "util/table_reader.hpp"

#include "admin/admin_settings.hpp"
#include "connectors/registry.hpp"
#include "directory/ldap_settings.hpp"
#include "dns/resolver_settings.hpp"
#include "policy/routes.hpp"
#include "policy/transport_rules.hpp"
#include "policy/trust_config.hpp"
#include "server/stamp_keys.hpp"
#include "store/database.hpp"
#include "trace/trace_settings.hpp"

namespace bh::config_detail {

using bh::each_table;
using bh::one_table;
using bh::TableReader;

// Core's keys of a [[connector]] table; the kind reads the rest
// (connectors/kind.hpp). [dns] must be read before.
connectors::ConnectorSettings read_connector(TableReader& r, const std::string& hostname,
                                             const dns::ResolverSettings& dns);
// A [[route]]'s connector (a [[connector]]: those are read first) and service. A connector whose
// kind has a service (connectors::KindDefinition::service) gives it to the
// route when the route names none; another service is an error.
void read_route_target(TableReader& r, Route& route,
                       const std::vector<connectors::ConnectorSettings>& connectors);
void read_dns(TableReader& r, dns::ResolverSettings& dns);
void read_access(TableReader& r, AccessLists& access);
InboundConnector read_inbound_connector(TableReader& r, const std::vector<Tenant>& tenants);
Tenant read_tenant(TableReader& r);
void read_stamp(TableReader& r, StampConfig& stamp);  // server/stamp_keys.cpp
// [[rule]] (server/config_rules.cpp); connectors and inbound connectors are read before.
std::shared_ptr<const TransportRules> read_rules(
    TableReader& top, const std::string& source, std::vector<std::string>& errors,
    const std::vector<connectors::ConnectorSettings>& connectors, const TrustConfig& trust);
void check_trust(const TrustConfig& trust, const std::string& source,
                 std::vector<std::string>& errors);
// [[directory.ldap]] inside the [directory] table (server/config_ldap.cpp).
void read_ldap_sources(TableReader& directory, std::vector<directory::LdapSource>& out);
// [trace] (server/config_trace.cpp).
void read_trace(TableReader& r, trace::TraceSettings& trace);
// [admin] (server/config_admin.cpp).
void read_admin(TableReader& r, admin::AdminSettings& admin);
// [store] (server/config_store.cpp), read after [directory]: old_database is
// [directory] database, the old name of [store] path, if given.
void read_store(TableReader& r, store::StoreSettings& store, const toml::node* old_database);
using bh::hostname_problem;
using bh::parse_host_and_port;

}  // namespace bh::config_detail
