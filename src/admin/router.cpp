#include "admin/router.hpp"

#include <algorithm>
#include <exception>

#include <boost/json.hpp>

#include "util/log.hpp"
#include "util/printable.hpp"

namespace bh::admin {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view scope_name(Scope scope) {
  switch (scope) {
    case Scope::read:
      return "read";
    case Scope::write:
      return "write";
    case Scope::admin:
      return "admin";
  }
  return "read";
}

std::optional<Scope> scope_from_name(std::string_view name) {
  for (Scope scope : {Scope::read, Scope::write, Scope::admin})
    if (scope_name(scope) == name) return scope;
  return std::nullopt;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<FieldProblem>& fields) {
  boost::json::object error;
  error["status"] = status;
  error["code"] = code;
  error["message"] = message;
  if (!fields.empty()) {
    boost::json::array list;
    for (const FieldProblem& problem : fields)
      list.push_back(boost::json::object{{"field", problem.field}, {"message", problem.message}});
    error["fields"] = std::move(list);
  }
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(boost::json::object{{"error", std::move(error)}});
  return response;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_digit(text[i + 1]);
      int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (out.find('\0') != std::string::npos || !valid_utf8(out)) return std::nullopt;
  return out;
}

std::optional<std::multimap<std::string, std::string>> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> parameters;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    std::size_t equals = pair.find('=');
    auto name = percent_decode(pair.substr(0, equals), true);
    auto value = percent_decode(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!name || !value) return std::nullopt;
    parameters.emplace(std::move(*name), std::move(*value));
  }
  return parameters;
}

void Router::add(std::string method, std::string pattern, Scope needed, Handler handler) {
  routes_.push_back({std::move(method), split_path(pattern), needed, std::move(handler)});
}

HttpResponse Router::handle(const HttpRequest& request, const Caller& caller) const {
  std::vector<std::string> segments = split_path(request.path);
  std::vector<std::string> decoded;
  for (const std::string& segment : segments) {
    auto text = percent_decode(segment, false);
    if (!text)
      return error_response(400, "bad_request",
                            "the path holds a bad percent escape, a NUL or bytes that are not "
                            "UTF-8");
    decoded.push_back(std::move(*text));
  }
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != decoded.size()) continue;
    PathParams params;
    bool matches = true;
    for (std::size_t i = 0; i < decoded.size() && matches; ++i) {
      const std::string& want = route.segments[i];
      if (is_parameter(want)) {
        if (decoded[i].empty()) matches = false;
        params[want.substr(1, want.size() - 2)] = decoded[i];
      } else {
        matches = want == decoded[i];
      }
    }
    if (!matches) continue;
    if (route.method != request.method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end())
        allowed.push_back(route.method);
      continue;
    }
    if (!caller.may(route.needed))
      return error_response(403, "forbidden",
                            "this token's scope is " + std::string(scope_name(caller.scope)) +
                                "; " + std::string(scope_name(route.needed)) + " is needed");
    try {
      return route.handler(request, params, caller);
    } catch (const std::exception& e) {
      log::Line("admin_error")
          .kv("method", request.method)
          .kv("path", request.path)
          .kv("reason", e.what())
          .write(log::Level::error);
    } catch (...) {
      log::Line("admin_error")
          .kv("method", request.method)
          .kv("path", request.path)
          .kv("reason", "unknown exception")
          .write(log::Level::error);
    }
    return error_response(500, "internal", "internal error (logged)");
  }
  if (!allowed.empty()) {
    std::sort(allowed.begin(), allowed.end());
    std::string allow;
    for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
    HttpResponse response = error_response(405, "method_not_allowed",
                                           request.method + " is not allowed here; use " + allow);
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  return error_response(404, "not_found", "no such endpoint");
}

}  // namespace bh::admin
