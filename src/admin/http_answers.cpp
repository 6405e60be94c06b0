#include "admin/http_answers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <fmt/format.h>

namespace bh::admin {
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::string_view kRealm = "Bearer realm=\"bridgehead\"";
}

std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() || !beast::iequals(header.substr(0, scheme.size()), scheme))
    return std::nullopt;
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

HttpResponse unauthorized(std::string_view message, bool invalid_token) {
  HttpResponse response = error_response(401, "unauthorized", message);
  std::string challenge(kRealm);
  if (invalid_token) challenge += ", error=\"invalid_token\"";
  response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return response;
}

HttpResponse overtaken(CallOutcome outcome, const AdminSettings& settings) {
  if (outcome == CallOutcome::not_started)
    return error_response(
        503, "unavailable",
        fmt::format("every admin worker (workers = {}) was busy for request_timeout ({} s): the "
                    "request was not started and changed nothing; try again",
                    settings.workers, settings.request_timeout_seconds));
  return error_response(
      503, "timeout",
      fmt::format("the request was still being handled after request_timeout ({} s); whether it "
                  "takes effect is not known yet (an admin_request_late log line tells)",
                  settings.request_timeout_seconds));
}

std::optional<HttpResponse> refusal_for(const boost::system::error_code& ec,
                                        const AdminSettings& settings) {
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec.category() != http::make_error_code(http::error::bad_target).category())
    return std::nullopt;
  if (ec == http::error::body_limit)
    return error_response(
        413, "body_too_large",
        fmt::format("the body is larger than max_body_bytes ({})", settings.max_body_bytes));
  if (ec == http::error::header_limit)
    return error_response(
        431, "header_too_large",
        fmt::format("the header is larger than max_header_bytes ({})", settings.max_header_bytes));
  return error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
}

HttpResponse answer_request(const Router& router, BeastRequest request, const Caller& caller) {
  HttpRequest call;
  call.method = std::string(request.method_string());
  std::string target(request.target());
  std::size_t question = target.find('?');
  call.path = target.substr(0, question);
  if (!call.path.starts_with('/'))
    return error_response(400, "bad_request", "the request target must be a path");
  if (question != std::string::npos) {
    auto query = parse_query(std::string_view(target).substr(question + 1));
    if (!query)
      return error_response(400, "bad_request",
                            "the query holds a bad percent escape, a NUL or bytes that are not "
                            "UTF-8");
    call.query = std::move(*query);
  }
  call.body = std::move(request.body());
  call.content_type = std::string(request[http::field::content_type]);
  return router.handle(call, caller);
}

BeastResponse to_message(const HttpResponse& answer, unsigned version, bool keep_alive) {
  BeastResponse response{static_cast<http::status>(answer.status), version};
  response.set(http::field::server, "Bridgehead");
  response.set(http::field::cache_control, "no-store");
  if (!answer.body.empty() || answer.status != 204)
    response.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) response.set(name, value);
  response.keep_alive(keep_alive);
  response.body() = answer.body;
  response.prepare_payload();
  return response;
}

}  // namespace bh::admin
