#include "admin/router.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <stdexcept>

namespace bh::admin {
namespace {

HttpRequest request(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

std::string header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return "";
}

boost::json::value body(const HttpResponse& response) {
  return boost::json::parse(response.body);
}

Router make_router() {
  Router router;
  router.add("GET", "/v1/things", Scope::read,
             [](const HttpRequest&, const PathParams&, const Caller&) {
               HttpResponse r;
               r.body = R"({"list":true})";
               return r;
             });
  router.add("GET", "/v1/things/{id}", Scope::read,
             [](const HttpRequest&, const PathParams& p, const Caller&) {
               HttpResponse r;
               r.body = boost::json::serialize(boost::json::object{{"id", p.at("id")}});
               return r;
             });
  router.add("DELETE", "/v1/things/{id}", Scope::write,
             [](const HttpRequest&, const PathParams&, const Caller&) {
               HttpResponse r;
               r.status = 204;
               return r;
             });
  router.add("POST", "/v1/boom", Scope::read,
             [](const HttpRequest&, const PathParams&, const Caller&) -> HttpResponse {
               throw std::runtime_error("kaput");
             });
  return router;
}

const Caller kReader{"t1", Scope::read, ""};
const Caller kWriter{"t2", Scope::write, ""};

TEST(AdminRouter, MatchesLiteralAndParameterPaths) {
  Router router = make_router();
  EXPECT_EQ(router.handle(request("GET", "/v1/things"), kReader).body, R"({"list":true})");
  HttpResponse one = router.handle(request("GET", "/v1/things/abc"), kReader);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(body(one).at("id"), "abc");
}

TEST(AdminRouter, DecodesEachSegmentAfterSplitting) {
  Router router = make_router();
  // An encoded '/' stays inside the parameter.
  HttpResponse one = router.handle(request("GET", "/v1/things/a%2Fb%40c"), kReader);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(body(one).at("id"), "a/b@c");
}

TEST(AdminRouter, RefusesBadEscapesNulAndNonUtf8) {
  Router router = make_router();
  for (const char* path :
       {"/v1/things/%zz", "/v1/things/%4", "/v1/things/a%00b", "/v1/things/%ff%fe"}) {
    HttpResponse r = router.handle(request("GET", path), kReader);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(body(r).at("error").at("code"), "bad_request") << path;
  }
}

TEST(AdminRouter, UnknownPathIs404) {
  Router router = make_router();
  for (const char* path : {"/v1/nothing", "/v1/things/a/b", "/v1/things/", "/"}) {
    HttpResponse r = router.handle(request("GET", path), kReader);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(body(r).at("error").at("status"), 404);
  }
}

TEST(AdminRouter, OtherMethodIs405WithAllow) {
  Router router = make_router();
  HttpResponse r = router.handle(request("PUT", "/v1/things/x"), kWriter);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "DELETE, GET");
  EXPECT_EQ(body(r).at("error").at("code"), "method_not_allowed");
}

TEST(AdminRouter, TooSmallScopeIs403) {
  Router router = make_router();
  HttpResponse r = router.handle(request("DELETE", "/v1/things/x"), kReader);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(router.handle(request("DELETE", "/v1/things/x"), kWriter).status, 204);
  Caller admin{"t3", Scope::admin, ""};
  EXPECT_EQ(router.handle(request("DELETE", "/v1/things/x"), admin).status, 204);
}

TEST(AdminRouter, ExceptionIs500WithoutItsText) {
  Router router = make_router();
  HttpResponse r = router.handle(request("POST", "/v1/boom"), kReader);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("kaput"), std::string::npos);
}

TEST(AdminRouter, ErrorResponseListsFields) {
  HttpResponse r = error_response(400, "invalid", "bad", {{"users[2].fax_numbers[0]", "no"}});
  auto error = body(r).at("error");
  EXPECT_EQ(error.at("fields").at(0).at("field"), "users[2].fax_numbers[0]");
  EXPECT_EQ(error.at("fields").at(0).at("message"), "no");
  EXPECT_FALSE(
      body(error_response(404, "not_found", "x")).at("error").as_object().contains("fields"));
}

TEST(AdminRouter, QueryParsing) {
  auto q = parse_query("a=1&b=x%20y+z&&c=&d");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->find("a")->second, "1");
  EXPECT_EQ(q->find("b")->second, "x y z");
  EXPECT_EQ(q->find("c")->second, "");
  EXPECT_EQ(q->find("d")->second, "");
  EXPECT_FALSE(parse_query("a=%g0"));
  EXPECT_FALSE(parse_query("a=%00"));
}

TEST(AdminRouter, ScopeNames) {
  for (Scope s : {Scope::read, Scope::write, Scope::admin})
    EXPECT_EQ(scope_from_name(scope_name(s)), s);
  EXPECT_FALSE(scope_from_name("root"));
  Caller limited{"t", Scope::write, "abc"};
  EXPECT_TRUE(limited.sees_tenant("abc"));
  EXPECT_FALSE(limited.sees_tenant("def"));
  EXPECT_TRUE(kReader.sees_tenant("def"));
}

}  // namespace
}  // namespace bh::admin
