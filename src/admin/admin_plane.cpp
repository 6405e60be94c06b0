#include "admin/admin_plane.hpp"

#include "admin/metrics_api.hpp"
#include "admin/trace_api.hpp"

namespace bh::admin {

std::shared_ptr<const Router> build_router(const AdminPlane& plane) {
  auto router = std::make_shared<Router>();
  if (plane.directory) add_directory_routes(*router, plane);
  if (plane.spool) add_queue_routes(*router, plane);
  if (plane.ingest_fax) add_ingest_routes(*router, plane);
  // The message trace and the metrics add their routes here, one line each.
  if (plane.trace) add_trace_routes(*router, *plane.trace);
  if (plane.metrics) add_metrics_route(*router, *plane.metrics);
  return router;
}

}  // namespace bh::admin
