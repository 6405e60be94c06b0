// What every endpoint needs: the JSON body read strictly, answers as JSON,
// store errors mapped to statuses, and the query parameters of lists.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "admin/router.hpp"
#include "util/result.hpp"

namespace bh::admin {

// Largest page of a list, and the default.
inline constexpr int kMaxPageLimit = 1000;
inline constexpr int kDefaultPageLimit = 100;

// The body as JSON, or the answer that refuses it: 415 when it is not
// declared application/json, 400 when it does not parse (with the line and
// column).
std::optional<HttpResponse> read_json_body(const HttpRequest& request, boost::json::value& out);

HttpResponse json_response(int status, const boost::json::value& body);
HttpResponse no_content();                                                   // 204
HttpResponse created(const boost::json::value& body, std::string location);  // 201 + Location
HttpResponse not_found(std::string_view what);
HttpResponse invalid(const std::vector<FieldProblem>& problems);  // 400 naming every field

// A store error as an answer: not_found 404, conflict 409, invalid 400,
// unavailable 503, anything else 500 (logged).
HttpResponse store_failure(const Error& error);

// Query parameters: any other name than those allowed, or one given twice,
// is a 400.
std::optional<HttpResponse> check_query(const HttpRequest& request,
                                        std::initializer_list<std::string_view> allowed);
std::string query_value(const HttpRequest& request, std::string_view name);

// limit (1 to 1000) and after, from the query.
struct PageQuery {
  std::string after;
  int limit = kDefaultPageLimit;
};
std::optional<HttpResponse> read_page(const HttpRequest& request, PageQuery& page);

// "/v1/users/" + the key, percent-encoded for a Location header or `next`.
std::string path_segment(std::string_view text);

}  // namespace bh::admin
