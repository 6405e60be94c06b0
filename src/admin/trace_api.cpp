#include "admin/trace_api.hpp"

#include <charconv>
#include <set>
#include <variant>

#include "admin/api_support.hpp"
#include "store/store_error.hpp"
#include "trace/time_text.hpp"
#include "trace/trace_json.hpp"
#include "util/log.hpp"

namespace bh::admin {
namespace {

constexpr std::size_t kMaxFilterBytes = 512;  // an address is at most 320

bool printable(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7F) return false;
  return true;
}

// The query's parameters, checked: unknown or repeated ones, bad times,
// statuses and limits are 400 with every problem named.
std::variant<trace::MessageQuery, HttpResponse> read_query(const HttpRequest& request) {
  static const std::set<std::string> kKnown{"sender", "recipient", "tenant", "since",
                                            "status", "limit",     "after"};
  trace::MessageQuery query;
  std::vector<FieldProblem> problems;
  for (auto it = request.query.begin(); it != request.query.end(); ++it) {
    const auto& [name, value] = *it;
    if (!kKnown.contains(name)) {
      problems.push_back({name, "unknown query parameter"});
      continue;
    }
    if (request.query.count(name) > 1 && it != request.query.find(name)) continue;
    if (request.query.count(name) > 1) {
      problems.push_back({name, "given more than once"});
      continue;
    }
    if (value.size() > kMaxFilterBytes || !printable(value)) {
      problems.push_back({name, "too long or not printable"});
      continue;
    }
    if (name == "sender") {
      query.sender = value;
    } else if (name == "recipient") {
      query.recipient = value;
    } else if (name == "tenant") {
      query.tenant = value;
    } else if (name == "after") {
      query.after = value;
    } else if (name == "status") {
      if (!trace::valid_status(value))
        problems.push_back({name, "not one of " + trace::status_list()});
      query.status = value;
    } else if (name == "since") {
      if (auto at = trace::parse_time(value))
        query.since_ms = *at;
      else
        problems.push_back({name, "not a time: unix seconds or RFC 3339 (2026-12-01T10:00:00Z)"});
    } else if (name == "limit") {
      std::size_t limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
          limit > trace::kMaxPageSize)
        problems.push_back(
            {name, "must be an integer from 1 to " + std::to_string(trace::kMaxPageSize)});
      query.limit = limit;
    }
  }
  if (!problems.empty()) return invalid(problems);
  return query;
}

HttpResponse json(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

}  // namespace

void add_trace_routes(Router& router, trace::TraceStore& store) {
  router.add("GET", "/v1/messages", Scope::read,
             [&store](const HttpRequest& request, const PathParams&, const Caller& caller) {
               auto parsed = read_query(request);
               if (auto* refused = std::get_if<HttpResponse>(&parsed)) return *refused;
               trace::MessageQuery query = std::get<trace::MessageQuery>(parsed);
               if (!caller.tenant.empty()) {
                 if (!query.tenant.empty() && query.tenant != caller.tenant)
                   return error_response(403, "forbidden",
                                         "this token may only read its own tenant's messages");
                 query.tenant = caller.tenant;
               }
               auto page = store.list(query);
               if (!page) return store_failure(page.error());
               return json(trace::page_json(*page));
             });
  router.add("GET", "/v1/messages/{id}", Scope::read,
             [&store](const HttpRequest&, const PathParams& params, const Caller& caller) {
               const std::string& id = params.at("id");
               auto found = store.get(id);
               // Another tenant's message is as unknown as one that does not exist.
               if ((!found && store::is(found.error(), store::StoreErrc::not_found)) ||
                   (found && !caller.sees_tenant(found->summary.tenant)))
                 return error_response(404, "not_found", "no message with this id in the trace");
               if (!found) return store_failure(found.error());
               return json(trace::trace_json(*found));
             });
}

}  // namespace bh::admin
