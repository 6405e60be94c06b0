// The admin API assembled: what its endpoints need from the running gateway
// (or from a test), and the router with every endpoint. The HTTP server
// (admin/http_server.hpp) serves the router.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "admin/router.hpp"
#include "directory/validate.hpp"
#include "util/result.hpp"

namespace bh {
namespace directory {
class DirectoryStore;
}
namespace queue {
class Spool;
}
namespace trace {
class TraceStore;
}
namespace metrics {
class Registry;
}
}  // namespace bh

namespace bh::admin {

class TokenStore;

struct AdminPlane {
  directory::DirectoryStore* directory = nullptr;
  // Puts a directory change in force on this node before the API answers
  // (the cache's refresh(), directory/directory_cache.hpp); null: nothing
  // to refresh.
  std::function<Status()> refresh_directory;
  directory::NormaliseOptions normalise;  // [directory] default_region
  // The id of the configured [[tenant]] that lists a domain, "" if none: the
  // API refuses that domain for any other tenant. Null: no configured
  // tenants to consult.
  std::function<std::string(std::string_view domain)> configured_domain_owner;
  TokenStore* tokens = nullptr;
  const queue::Spool* spool = nullptr;  // null: no /v1/queue
  // Filled by the trace and metrics (null: their endpoints are absent).
  trace::TraceStore* trace = nullptr;
  const metrics::Registry* metrics = nullptr;
};

// /v1/tenants, /v1/users, /v1/numbers (admin/directory_api.cpp).
void add_directory_routes(Router& router, const AdminPlane& plane);
// /v1/queue (admin/queue_api.cpp).
void add_queue_routes(Router& router, const AdminPlane& plane);

// Every endpoint; plane's pointers must outlive the router.
std::shared_ptr<const Router> build_router(const AdminPlane& plane);

}  // namespace bh::admin
