#pragma once

#include "connectors/connector.hpp"

namespace bh::connectors {

// Accepts and drops every message (like Postfix's discard transport); for
// benchmarks and sinks.
class DiscardConnector final : public Connector {
 public:
  std::vector<RecipientResult> deliver(const DeliveryRequest& request) override {
    return same_for_all(request, {Outcome::delivered, "2.0.0", "discarded"});
  }
};

}  // namespace bh::connectors
