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

// POST /v1/ingest/fax (admin/ingest_api.cpp): a received fax handed to a
// fax connector (connectors/fax/fax_ingest.hpp), through a function the
// gateway provides, so the admin API does not depend on the connectors.
// The function makes only the cheap checks (the number, its owner, the
// tenant, the size) and drops the fax into the connector's ingest folder,
// whose thread renders and queues it: an admin worker never waits for the
// render helper or the queue.
struct FaxIngestCall {
  std::string_view body;  // the request's body, the TIFF (valid during the call)
  std::string called, caller, caller_name, tsi;
  std::string connector;  // "": the only fax connector
  std::string tenant;     // the token's tenant: "" any; else the number must be this tenant's
};
enum class FaxIngestOutcome {
  accepted,        // 202: in the ingest folder; the mail follows
  bad_request,     // 400: no such fax connector, several without `connector`, a bad number
  forbidden,       // 403: the number is not the token's tenant's
  unknown_number,  // 404
  not_readable,    // 422: not a TIFF, or larger than ingest_max_size
  unavailable,     // 503: directory unavailable, the folder cannot be written: try again
};
struct FaxIngestReply {
  FaxIngestOutcome outcome = FaxIngestOutcome::unavailable;
  std::string id;  // the fax's name in the ingest folder (the log's and the trace's)
  std::string mailbox;
  std::string message;  // why, when not accepted
};
using FaxIngestFunction = std::function<FaxIngestReply(const FaxIngestCall&)>;

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
  // Null: no fax connector, no /v1/ingest/fax.
  FaxIngestFunction ingest_fax;
};

// /v1/tenants, /v1/users, /v1/numbers (admin/directory_api.cpp).
void add_directory_routes(Router& router, const AdminPlane& plane);
// /v1/queue (admin/queue_api.cpp).
void add_queue_routes(Router& router, const AdminPlane& plane);

// /v1/ingest/fax (admin/ingest_api.cpp).
void add_ingest_routes(Router& router, const AdminPlane& plane);

// Every endpoint; plane's pointers must outlive the router.
std::shared_ptr<const Router> build_router(const AdminPlane& plane);

}  // namespace bh::admin
