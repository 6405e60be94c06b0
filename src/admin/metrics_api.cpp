#include "admin/metrics_api.hpp"

namespace bh::admin {

void add_metrics_route(Router& router, const metrics::Registry& registry) {
  router.add("GET", "/metrics", Scope::read,
             [&registry](const HttpRequest&, const PathParams&, const Caller&) {
               HttpResponse response;
               response.content_type = std::string(kMetricsContentType);
               response.body = registry.render();
               return response;
             });
}

}  // namespace bh::admin
