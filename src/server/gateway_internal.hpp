// What run_gateway (gateway.cpp) shares with its parts: the TLS setup
// (gateway_tls.cpp), the reloadable policy and the SIGHUP reload
// (gateway_reload.cpp) and the /metrics gauges (gateway_gauges.cpp).
// Internal to the gateway.
#pragma once

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "connectors/registry.hpp"
#include "policy/policy_set.hpp"
#include "server/config.hpp"
#include "tls/chain_verifier.hpp"
#include "util/result.hpp"

namespace bh {
class Scheduler;
namespace queue {
class Spool;
}
namespace trace {
class Recorder;
}
namespace directory {
class DirectoryView;
}
}  // namespace bh

namespace bh::gateway_detail {

// gateway_tls.cpp: the listeners' TLS context (a self-signed certificate
// made first when configured so).
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls(const Config& config);
// gateway_tls.cpp: the CA bundles inbound connectors name for themselves.
Result<std::shared_ptr<tls::ChainVerifier>> connector_verifier(const Config& config);
// gateway_tls.cpp: warns when a microsoft365 connector's bundle lacks
// Exchange Online's root.
void warn_missing_exchange_root(const Config& config);

// gateway_reload.cpp: the reloadable decisions of a configuration.
Result<std::shared_ptr<const PolicySet>> make_policy(const Config& config,
                                                     const directory::DirectoryView* directory);

// gateway_gauges.cpp: gauges /metrics reads at scrape time, registered
// while this lives.
struct GatewayGauges {
  GatewayGauges(const Scheduler& scheduler, const queue::Spool& spool,
                const trace::Recorder* recorder);
  ~GatewayGauges();
};

// gateway_reload.cpp: SIGHUP puts a new configuration's reloadable parts
// in force.
struct ReloadOnHangup {
  boost::asio::signal_set signals;
  const Config& running;
  PolicyHolder& policy;
  const connectors::Registry& registry;
  const directory::DirectoryView* directory;
  tls::ChainVerifier& verifier;            // shared with every listener's sessions
  boost::asio::ssl::context* tls_context;  // null without [tls]

  void wait();
  void reload();
};

}  // namespace bh::gateway_detail
