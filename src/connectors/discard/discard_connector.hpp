#pragma once

#include "connectors/connector.hpp"

namespace bh::connectors {

// Accepts and drops every message (like Postfix's discard transport); for
// benchmarks and sinks.
class DiscardConnector final : public Connector {
 public:
  void deliver(DeliveryRequest request, DeliveryDone done) override {
    done(same_for_all(request, {Outcome::delivered, "2.0.0", "discarded", "", "delivered"}));
  }
};

}  // namespace bh::connectors
