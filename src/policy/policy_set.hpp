// The decisions that can change while the gateway runs (SIGHUP): routes,
// inbound trust, transport rules and the stamp keys. A session or a
// delivery attempt takes the current set once and keeps it, so a reload
// never changes the rules mid-conversation.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "mail/limits.hpp"
#include "policy/processed_stamp.hpp"
#include "policy/routes.hpp"
#include "policy/transport_rules.hpp"
#include "policy/trust_policy.hpp"

namespace bh {

struct PolicySet {
  PolicySet(std::vector<Route> route_list, TrustConfig trust_config,
            const directory::DirectoryView* directory,
            std::shared_ptr<const TransportRules> rule_list = {},
            std::shared_ptr<const StampKeys> stamp_keys = {}, Limits limit_set = {},
            RoutingTable::ConnectorServices connector_services = {})
      : routes(std::move(route_list), std::move(connector_services)),
        trust(std::move(trust_config), routes, directory),
        rules(rule_list ? std::move(rule_list) : std::make_shared<const TransportRules>()),
        stamp(std::move(stamp_keys)),
        limits(limit_set) {}
  PolicySet(const PolicySet&) = delete;  // trust refers to routes
  PolicySet& operator=(const PolicySet&) = delete;

  RoutingTable routes;
  TrustPolicy trust;
  std::shared_ptr<const TransportRules> rules;  // never null
  std::shared_ptr<const StampKeys> stamp;       // null: no stamp is added or believed
  Limits limits;
};

class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicySet> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const PolicySet> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const PolicySet> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicySet> current_;
};

}  // namespace bh
