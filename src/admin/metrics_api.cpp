#include "admin/metrics_api.hpp"

namespace bh::admin {

void add_metrics_route(Router& router, const metrics::Registry& registry) {
  router.add("GET", "/metrics", Scope::read,
             [&registry](const HttpRequest&, const PathParams&, const Caller& caller) {
               // Queue sizes, refusals and connector latencies are the whole
               // gateway's, not one tenant's.
               if (!caller.tenant.empty())
                 return error_response(403, "forbidden", "/metrics needs a token of every tenant");
               HttpResponse response;
               response.content_type = std::string(kMetricsContentType);
               response.body = registry.render();
               return response;
             });
}

}  // namespace bh::admin
