#include "admin/api_support.hpp"

#include <charconv>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "admin/json_fields.hpp"
#include "store/store_error.hpp"
#include "util/log.hpp"

namespace bh::admin {

std::optional<HttpResponse> read_json_body(const HttpRequest& request, boost::json::value& out) {
  std::string_view type = request.content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type != "application/json")
    return error_response(415, "unsupported_media_type",
                          "the body must be JSON, sent with Content-Type: application/json");
  auto parsed = parse_json(request.body);
  if (!parsed)
    return error_response(400, "bad_json", "the body is not JSON: " + parsed.error().message);
  out = std::move(*parsed);
  return std::nullopt;
}

HttpResponse json_response(int status, const boost::json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(body);
  return response;
}

HttpResponse no_content() {
  HttpResponse response;
  response.status = 204;
  return response;
}

HttpResponse created(const boost::json::value& body, std::string location) {
  HttpResponse response = json_response(201, body);
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

HttpResponse not_found(std::string_view what) {
  return error_response(404, "not_found", fmt::format("no such {}", what));
}

HttpResponse invalid(const std::vector<FieldProblem>& problems) {
  return error_response(400, "invalid",
                        problems.size() == 1
                            ? "a field is invalid"
                            : fmt::format("{} fields are invalid", problems.size()),
                        problems);
}

HttpResponse store_failure(const Error& error) {
  using store::StoreErrc;
  if (store::is(error, StoreErrc::not_found))
    return error_response(404, "not_found", error.message);
  if (store::is(error, StoreErrc::conflict)) return error_response(409, "conflict", error.message);
  if (store::is(error, StoreErrc::invalid)) return error_response(400, "invalid", error.message);
  if (store::is(error, StoreErrc::unavailable)) {
    log::Line("admin_store_unavailable").kv("reason", error.message).write(log::Level::error);
    return error_response(503, "unavailable", "the store cannot be reached; try again later");
  }
  log::Line("admin_store_error").kv("reason", error.message).write(log::Level::error);
  return error_response(500, "internal", "the store failed (logged)");
}

std::optional<HttpResponse> check_query(const HttpRequest& request,
                                        std::initializer_list<std::string_view> allowed) {
  std::vector<FieldProblem> problems;
  for (auto it = request.query.begin(); it != request.query.end();
       it = request.query.upper_bound(it->first)) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == it->first;
    if (!known)
      problems.push_back({it->first, "unknown query parameter"});
    else if (request.query.count(it->first) > 1)
      problems.push_back({it->first, "is given more than once"});
  }
  if (problems.empty()) return std::nullopt;
  return invalid(problems);
}

std::string query_value(const HttpRequest& request, std::string_view name) {
  auto found = request.query.find(std::string(name));
  return found == request.query.end() ? "" : found->second;
}

std::optional<HttpResponse> read_page(const HttpRequest& request, PageQuery& page) {
  page.after = query_value(request, "after");
  if (request.query.contains("limit")) {
    std::string text = query_value(request, "limit");
    int limit = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > kMaxPageLimit)
      return invalid({{"limit", fmt::format("must be an integer from 1 to {}", kMaxPageLimit)}});
    page.limit = limit;
  }
  return std::nullopt;
}

std::string path_segment(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '@' || c == '+')
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace bh::admin
