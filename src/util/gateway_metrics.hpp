// The gateway's own metrics, made once in the process registry
// (util/metrics.hpp) and kept by reference where they are counted. The
// label values are the gateway's own words (stages, outcomes, enhanced
// codes, configured connector names): bounded by construction, and by the
// family's max_series besides. docs/api.md lists them.
#pragma once

#include <string_view>

#include "util/metrics.hpp"

namespace bh::metrics {

struct GatewayMetrics {
  // result: accepted, refused_limit, refused_access
  CounterFamily& connections;
  // result: ok, failed
  CounterFamily& tls_handshakes;
  // outcome: accepted, refused, delivered, bounced, deferred, pending, expired
  CounterFamily& messages;
  // stage (connect, helo, mail, rcpt, route, data, loop, rules, ...), status (the enhanced code)
  CounterFamily& refusals;
  // connector: seconds from the hand-over to the connector's result
  HistogramFamily& delivery_seconds;

  void connection(std::string_view result) { connections.with({std::string(result)}).inc(); }
  void message(std::string_view outcome) { messages.with({std::string(outcome)}).inc(); }
  void refusal(std::string_view stage, std::string_view status) {
    refusals.with({std::string(stage), std::string(status.empty() ? "none" : status)}).inc();
  }
};

GatewayMetrics& gateway_metrics();

}  // namespace bh::metrics
