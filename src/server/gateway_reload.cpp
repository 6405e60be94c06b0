// SIGHUP: the configuration file read again and its reloadable parts (the
// policy make_policy builds, the client-certificate trust anchors) put in
// force, or nothing changed when any of it is wrong.
#include "server/gateway_internal.hpp"
#include "server/stamp_keys.hpp"
#include "tls/context.hpp"
#include "util/log.hpp"

namespace bh::gateway_detail {

// The reloadable decisions of a configuration. The stamp key is read (or,
// for the quickstart, made) here, so a rotation takes effect on SIGHUP.
Result<std::shared_ptr<const PolicySet>> make_policy(const Config& config,
                                                     const directory::DirectoryView* directory) {
  std::shared_ptr<const StampKeys> stamp;
  if (config.stamp.configured || config.source == "<quickstart>") {
    bool created = false;
    auto keys = config.stamp.configured
                    ? load_stamp_keys(config.stamp, config.hostname)
                    : load_or_create_stamp_keys(config.stamp, config.hostname, &created);
    if (!keys) return Error{"stamp: " + keys.error().message};
    if (created) log::Line("stamp_key_created").kv("file", config.stamp.key_file).write();
    stamp = std::make_shared<const StampKeys>(std::move(*keys));
  }
  return std::make_shared<const PolicySet>(config.routes, config.trust, directory, config.rules,
                                           stamp, config.limits,
                                           connector_services(config.connectors));
}

// SIGHUP: read the configuration file again and put its routes, inbound
// connectors, tenants and access lists in force for new sessions and
// delivery attempts, with the client-certificate trust anchors read again
// from disk (tls.client_ca_file and every inbound connector's ca_file).
// Anything else needs a restart; a file with errors, a route to a connector
// the running gateway does not have, a trust bundle that cannot be read, or
// a change to whether client certificates are asked for changes nothing.
void ReloadOnHangup::wait() {
  signals.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reload();
    wait();
  });
}

void ReloadOnHangup::reload() {
  if (running.source == "<quickstart>") {
    log::Line("reload_failed").kv("reason", "the quickstart configuration has no file").write();
    return;
  }
  auto next = load_config_file(running.source);
  if (!next) {
    log::Line("reload_failed").kv("reason", next.error().message).write(log::Level::error);
    return;
  }
  std::vector<std::string> routed;
  for (const Route& route : next->routes) routed.push_back(route.connector);
  for (const TransportRule& rule : next->rules->rules())
    if (rule.route_to) routed.push_back(*rule.route_to);
  for (const std::string& connector : routed) {
    if (registry.find(connector) == nullptr) {
      log::Line("reload_failed")
          .kv("reason", "route to connector " + connector +
                            ", which the running gateway does not have: restart instead")
          .write(log::Level::error);
      return;
    }
  }
  // Trust anchors: everything is read and checked before anything changes.
  auto refuse = [](const std::string& key, const std::string& reason) {
    log::Line("reload_failed").kv("key", key).kv("reason", reason).write(log::Level::error);
  };
  if (running.tls.has_value() != next->tls.has_value())
    return refuse("tls", "the [tls] table was added or removed: restart instead");
  bool asks_client_certificate = running.tls && running.tls->request_client_certificate;
  if (next->tls && next->tls->request_client_certificate != asks_client_certificate)
    return refuse("tls.request_client_certificate", "changed: restart instead");
  std::shared_ptr<const tls::ClientCaAnchors> client_ca;
  if (asks_client_certificate && tls_context != nullptr) {
    auto loaded = tls::ClientCaAnchors::load(next->tls->client_ca_file);
    if (!loaded) return refuse("tls.client_ca_file", loaded.error().message);
    client_ca = *loaded;
  }
  auto next_verifier = connector_verifier(*next);
  if (!next_verifier) return refuse("inbound_connector.ca_file", next_verifier.error().message);

  auto next_policy = make_policy(*next, directory);
  if (!next_policy) return refuse("stamp", next_policy.error().message);

  // Anchors first, then the connectors that rely on them: a session never
  // verifies a new connector against old anchors.
  if (client_ca) {
    if (auto replaced = tls::replace_client_ca(*tls_context, client_ca); !replaced)
      return refuse("tls.client_ca_file", replaced.error().message);
  }
  verifier.replace_with(**next_verifier);
  policy.replace(*next_policy);
  log::Line("reloaded")
      .kv("source", running.source)
      .kv("routes", next->routes.size())
      .kv("inbound_connectors", next->trust.connectors.size())
      .kv("tenants", next->trust.tenants.size())
      .kv("rules", next->rules->rules().size())
      .kv("note",
          "routes, rules, inbound connectors, tenants, access lists, the stamp keys and the "
          "client certificate trust anchors (tls.client_ca_file, ca_file) are in force; other "
          "changes need a restart")
      .write();
  warn_missing_exchange_root(*next);
}

}  // namespace bh::gateway_detail
