// The gateway's configuration (docs/configuration.md), loaded from TOML with
// errors that name file, line and key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_settings.hpp"
#include "connectors/registry.hpp"
#include "directory/directory_settings.hpp"
#include "dns/resolver_settings.hpp"
#include "mail/limits.hpp"
#include "policy/routes.hpp"
#include "policy/transport_rules.hpp"
#include "policy/trust_config.hpp"
#include "server/stamp_keys.hpp"
#include "store/database.hpp"
#include "trace/trace_settings.hpp"
#include "util/result.hpp"

namespace bh {

struct ListenerConfig {
  std::string address;  // as written
  std::string host;
  std::uint16_t port = 0;
  bool starttls = true;
  bool require_tls = false;
};

struct TlsConfig {
  std::string certificate;
  std::string private_key;
  bool generate_self_signed = false;
  bool request_client_certificate = false;
  std::string client_ca_file;
  std::string min_version = "TLSv1.2";
};

struct QueueConfig {
  std::string directory = "var/spool";
  std::int64_t active_limit = 1000;
  std::int64_t active_bytes_limit = 512LL << 20;
  std::int64_t retry_delay = 300;
  std::int64_t max_retry_delay = 4000;
  std::int64_t max_lifetime = 432000;
  std::int64_t delay_warning = 14400;
};

struct Config {
  std::string source;  // file name, or "<quickstart>"
  std::string hostname = "localhost";
  std::int64_t threads = 0;
  std::string log_format = "text";
  std::string log_level = "info";
  bool strip_nul = false;  // NUL bytes in message text: removed instead of refused
  std::string postmaster;  // where RCPT TO:<Postmaster> goes; empty: postmaster@hostname
  // SIGTERM: how long sessions receiving a message and deliveries in
  // flight may take before they are cut (and deferred) [seconds].
  std::int64_t shutdown_grace = 30;
  std::vector<ListenerConfig> listeners;
  std::optional<TlsConfig> tls;
  QueueConfig queue;
  Limits limits;
  StampConfig stamp;  // [stamp]: the processed stamp's keys
  dns::ResolverSettings dns;
  TrustConfig trust;
  // [store]: where the directory, trace, pending references and tokens
  // live (SQLite file, or PostgreSQL shared by several nodes).
  store::StoreSettings store;
  directory::DirectorySettings directory;  // [directory]
  admin::AdminSettings admin;              // [admin]
  trace::TraceSettings trace;              // [trace]
  std::vector<Route> routes;
  std::vector<connectors::ConnectorSettings> connectors;
  // [[rule]] (docs/rules.md); never null.
  std::shared_ptr<const TransportRules> rules = std::make_shared<const TransportRules>();
};

// Error messages are "SOURCE:LINE: KEY: message", one per line.
Result<Config> parse_config(const std::string& text, const std::string& source);
Result<Config> load_config_file(const std::string& path);
Config quickstart_config();
// The services of the connectors whose kind has one (a fax connector:
// "fax"), for the routing table.
RoutingTable::ConnectorServices connector_services(
    const std::vector<connectors::ConnectorSettings>& connectors);

}  // namespace bh
