// POST /v1/ingest/fax through the router with a stand-in for the gateway's
// ingest: what reaches the ingest (the body, the query, the token's
// tenant), and how each outcome is answered.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "admin/admin_plane.hpp"

namespace bh::admin {
namespace {

struct FakeIngest {
  FaxIngestReply reply;
  std::optional<FaxIngestCall> seen;
  std::string body_seen;
};

Router router_with(FakeIngest& fake) {
  AdminPlane plane;
  plane.ingest_fax = [&fake](const FaxIngestCall& call) {
    fake.seen = call;
    fake.body_seen = std::string(call.body);
    return fake.reply;
  };
  Router router;
  add_ingest_routes(router, plane);
  return router;
}

HttpRequest post(std::string query, std::string type = "image/tiff") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/v1/ingest/fax";
  if (auto parsed = parse_query(query)) r.query = *parsed;
  r.content_type = std::move(type);
  r.body = std::string("II*\0fax", 7);
  return r;
}

std::string code_of(const HttpResponse& response) {
  return std::string(boost::json::parse(response.body).at("error").at("code").as_string());
}

const Caller kWriter{"t1", Scope::write, ""};

TEST(FaxIngestApi, HandsTheBodyAndQueryToTheIngestAndAnswers202) {
  FakeIngest fake;
  fake.reply.outcome = FaxIngestOutcome::accepted;
  fake.reply.id = "fax-1764633600-42-0000abcd";
  fake.reply.mailbox = "anna@contoso.com";
  Router router = router_with(fake);
  Caller tenant_writer{"t2", Scope::write, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"};
  HttpResponse r = router.handle(
      post("called=%2B4930654321&caller=030123456&caller_name=Hans%20M%C3%BCller&tsi=ACME",
           "image/tiff; charset=binary"),
      tenant_writer);
  ASSERT_EQ(r.status, 202) << r.body;
  auto body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("id").as_string(), "fax-1764633600-42-0000abcd");
  EXPECT_EQ(body.at("status").as_string(), "accepted");
  EXPECT_EQ(body.at("mailbox").as_string(), "anna@contoso.com");
  ASSERT_TRUE(fake.seen);
  EXPECT_EQ(fake.seen->called, "+4930654321");
  EXPECT_EQ(fake.seen->caller, "030123456");
  EXPECT_EQ(fake.seen->caller_name, "Hans M\xC3\xBCller");
  EXPECT_EQ(fake.seen->tsi, "ACME");
  EXPECT_EQ(fake.seen->tenant, tenant_writer.tenant);
  EXPECT_EQ(fake.body_seen, std::string("II*\0fax", 7));
}

TEST(FaxIngestApi, RefusesBadRequestsBeforeTheIngest) {
  FakeIngest fake;
  Router router = router_with(fake);
  EXPECT_EQ(router.handle(post("caller=1"), kWriter).status, 400);
  EXPECT_EQ(router.handle(post("called=1&extra=2"), kWriter).status, 400);
  HttpResponse wrong_type = router.handle(post("called=1", "application/pdf"), kWriter);
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(code_of(wrong_type), "unsupported_media_type");
  Caller reader{"r", Scope::read, ""};
  EXPECT_EQ(router.handle(post("called=1"), reader).status, 403);
  EXPECT_FALSE(fake.seen);
}

TEST(FaxIngestApi, EachOutcomeHasItsStatus) {
  struct Case {
    FaxIngestOutcome outcome;
    int status;
    std::string code;
  };
  for (const Case& c : {Case{FaxIngestOutcome::bad_request, 400, "bad_request"},
                        Case{FaxIngestOutcome::forbidden, 403, "forbidden"},
                        Case{FaxIngestOutcome::unknown_number, 404, "unknown_number"},
                        Case{FaxIngestOutcome::not_readable, 422, "not_a_fax"},
                        Case{FaxIngestOutcome::unavailable, 503, "unavailable"}}) {
    FakeIngest fake;
    fake.reply.outcome = c.outcome;
    fake.reply.message = "why";
    Router router = router_with(fake);
    HttpResponse r = router.handle(post("called=%2B4930555555"), kWriter);
    EXPECT_EQ(r.status, c.status) << c.code;
    EXPECT_EQ(code_of(r), c.code);
    bool retry_after = false;
    for (const auto& [name, value] : r.headers) retry_after |= name == "Retry-After";
    EXPECT_EQ(retry_after, c.status == 503) << c.code;
    if (c.outcome == FaxIngestOutcome::unknown_number) {
      EXPECT_NE(r.body.find("+4930555555"), std::string::npos) << r.body;
    }
  }
}

}  // namespace
}  // namespace bh::admin
