// The decisions that can change while the gateway runs (SIGHUP): routes
// and inbound trust. A session or a delivery attempt takes the current set
// once and keeps it, so a reload never changes the rules mid-conversation.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "policy/routes.hpp"
#include "policy/trust_policy.hpp"

namespace bh {

struct PolicySet {
  PolicySet(std::vector<Route> route_list, TrustConfig trust_config,
            const directory::DirectoryView* directory)
      : routes(std::move(route_list)), trust(std::move(trust_config), routes, directory) {}
  PolicySet(const PolicySet&) = delete;  // trust refers to routes
  PolicySet& operator=(const PolicySet&) = delete;

  RoutingTable routes;
  TrustPolicy trust;
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
