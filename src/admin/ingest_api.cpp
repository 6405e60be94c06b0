// POST /v1/ingest/fax: a received fax (the body, a TIFF) for the fax
// connector, for fax servers that call an HTTP hook instead of `bridgehead
// ingest fax`. Needs Scope::write; a token limited to a tenant may ingest
// only for numbers its tenant owns (checked against the directory now, and
// again when the fax is queued). 202 Accepted once the fax is durable in
// the connector's ingest folder: the folder's thread renders and queues it
// (admin_plane.hpp), so no call waits for the render helper.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "admin/admin_plane.hpp"
#include "admin/api_support.hpp"

namespace bh::admin {
namespace json = boost::json;
namespace {

bool is_tiff_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower;
  for (char c : type) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return lower == "image/tiff";
}

HttpResponse reply_to(const FaxIngestReply& reply, const std::string& called) {
  switch (reply.outcome) {
    case FaxIngestOutcome::accepted:
      return json_response(
          202, json::object{{"id", reply.id}, {"mailbox", reply.mailbox}, {"status", "accepted"}});
    case FaxIngestOutcome::bad_request:
      return error_response(400, "bad_request", reply.message);
    case FaxIngestOutcome::forbidden:
      return error_response(403, "forbidden",
                            fmt::format("the number {} is not your tenant's", called));
    case FaxIngestOutcome::unknown_number:
      return error_response(404, "unknown_number",
                            fmt::format("no mailbox owns the number {}", called));
    case FaxIngestOutcome::not_readable:
      return error_response(422, "not_a_fax", reply.message);
    case FaxIngestOutcome::unavailable:
      break;
  }
  HttpResponse busy = error_response(503, "unavailable", reply.message);
  busy.headers.emplace_back("Retry-After", "60");
  return busy;
}

}  // namespace

void add_ingest_routes(Router& router, const AdminPlane& plane) {
  FaxIngestFunction ingest = plane.ingest_fax;
  router.add("POST", "/v1/ingest/fax", Scope::write,
             [ingest](const HttpRequest& request, const PathParams&, const Caller& caller) {
               if (auto bad = check_query(request,
                                          {"called", "caller", "caller_name", "tsi", "connector"}))
                 return *bad;
               FaxIngestCall call;
               call.called = query_value(request, "called");
               if (call.called.empty())
                 return invalid({{"called", "the called number (the DID) is required"}});
               if (!is_tiff_type(request.content_type))
                 return error_response(415, "unsupported_media_type",
                                       "the body must be the fax, sent with Content-Type: "
                                       "image/tiff");
               call.caller = query_value(request, "caller");
               call.caller_name = query_value(request, "caller_name");
               call.tsi = query_value(request, "tsi");
               call.connector = query_value(request, "connector");
               call.tenant = caller.tenant;
               call.body = request.body;
               return reply_to(ingest(call), call.called);
             });
}

}  // namespace bh::admin
