// The admin API's requests and answers as plain values, and the table of
// routes: pure (no sockets), so every endpoint is tested without a server.
// The HTTP server (admin/http_server.hpp) authenticates the caller, then
// asks the router; handlers may block on the store (they run on the admin
// API's worker pool, several at once, never on an SMTP I/O thread): what
// they share must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh::admin {

enum class Scope { read, write, admin };  // admin: tokens and everything else
std::string_view scope_name(Scope scope);
std::optional<Scope> scope_from_name(std::string_view name);

// Who calls, from their bearer token.
struct Caller {
  std::string token_id;
  Scope scope = Scope::read;
  std::string tenant;  // "" : every tenant; else only this tenant's objects
  bool may(Scope needed) const { return static_cast<int>(scope) >= static_cast<int>(needed); }
  bool sees_tenant(const std::string& id) const { return tenant.empty() || tenant == id; }
};

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  // The path as sent, without the query and still percent-encoded: the
  // router splits it at '/' first and then decodes each segment, so an
  // address with an encoded '/' stays one parameter.
  std::string path;
  std::multimap<std::string, std::string> query;  // decoded parameters (valid UTF-8)
  std::string body;
  std::string content_type;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Location, ...)
};

// {"error": {"status": 404, "code": "not_found", "message": "...",
//            "fields": [{"field": "...", "message": "..."}]}}
struct FieldProblem {
  std::string field;
  std::string message;
};
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<FieldProblem>& fields = {});

// "/v1/tenants/{id}" matches "/v1/tenants/abc" with params["id"] = "abc".
// Parameters are percent-decoded; a segment that does not decode to UTF-8
// without NUL is a 400 before any handler runs.
using PathParams = std::map<std::string, std::string>;
using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&, const Caller&)>;

class Router {
 public:
  void add(std::string method, std::string pattern, Scope needed, Handler handler);
  // 404 for an unknown path, 405 (with Allow) for a known path with another
  // method, 403 when the caller's scope is too small, else the handler's
  // answer (an exception escaping it is a logged 500).
  HttpResponse handle(const HttpRequest& request, const Caller& caller) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Scope needed;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// "%41b" -> "Ab"; nullopt for a bad escape, a NUL or text that is not UTF-8.
// plus_is_space: query strings (application/x-www-form-urlencoded).
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
// "a=1&b=x%20y" -> {a: 1, b: "x y"}; nullopt when a name or value does not
// decode.
std::optional<std::multimap<std::string, std::string>> parse_query(std::string_view query);

}  // namespace bh::admin
