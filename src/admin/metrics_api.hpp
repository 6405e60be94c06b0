// GET /metrics: the process's metrics in the Prometheus text format 0.0.4
// (Scope::read, and a token of every tenant: the numbers are the gateway's).
#pragma once

#include "admin/router.hpp"
#include "util/metrics.hpp"

namespace bh::admin {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

void add_metrics_route(Router& router, const metrics::Registry& registry);

}  // namespace bh::admin
