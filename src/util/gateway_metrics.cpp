#include "util/gateway_metrics.hpp"

namespace bh::metrics {

GatewayMetrics& gateway_metrics() {
  static GatewayMetrics metrics{
      process_registry().counter_family("bridgehead_connections_total",
                                        "SMTP connections by what became of them", {"result"}),
      process_registry().counter_family("bridgehead_tls_handshakes_total",
                                        "STARTTLS handshakes of SMTP clients by result",
                                        {"result"}),
      process_registry().counter_family(
          "bridgehead_messages_total",
          "Messages accepted or refused at intake, and recipients by delivery outcome",
          {"outcome"}),
      process_registry().counter_family("bridgehead_refusals_total",
                                        "Refused SMTP commands and messages by stage and status",
                                        {"stage", "status"}),
      process_registry().histogram_family(
          "bridgehead_delivery_duration_seconds",
          "Time a connector took for a delivery attempt (per recipient)", {"connector"},
          latency_buckets()),
  };
  return metrics;
}

}  // namespace bh::metrics
