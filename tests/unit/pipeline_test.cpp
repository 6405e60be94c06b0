// The intake's decisions as a table: what RCPT TO accepts before the tenant
// is known, and where the end of the message routes each recipient.
#include "intake/pipeline.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bh;

constexpr const char* kT1 = "aaaaaaaa-0000-0000-0000-000000000001";

intake::Pipeline pipeline_with(std::vector<Route> routes) {
  return intake::Pipeline(
      std::make_shared<const PolicySet>(std::move(routes), TrustConfig{}, nullptr));
}

// A tenant's own route to a service does not refuse other senders at RCPT
// TO: for them the unscoped route applies.
TEST(Pipeline, TenantScopedServiceRouteDoesNotRefuseOthersAtRcpt) {
  Route fax{{"example.com"}, "fax", "fax"};
  fax.from_tenants = {kT1};
  auto pipeline = pipeline_with({fax, Route{{"example.com"}, "smtp-out", ""}});
  intake::Origin origin;  // an internet client: no inbound connector
  Recipient r{Address{"x", "example.com"}, 0, ""};
  std::string stage;
  Verdict verdict = pipeline.recipient(origin, Address{"a", "sender.test"}, r, &stage);
  EXPECT_TRUE(verdict.accepted) << verdict.reason;

  Envelope envelope;
  envelope.sender = Address{"a", "sender.test"};
  envelope.recipients.push_back(r);
  std::string content = "Subject: s\r\n\r\nbody\r\n";
  std::size_t header_size = 14;
  auto decision = pipeline.message(origin, envelope, content, header_size, content.size(), 0);
  EXPECT_TRUE(decision.verdict.accepted) << decision.verdict.reason;
  EXPECT_EQ(envelope.recipients[0].connector, "");  // the table decides at each attempt
  RouteScope scope{"", envelope.tenant, true};
  EXPECT_EQ(pipeline.policy().routes.find(envelope.recipients[0].address, scope)->connector,
            "smtp-out");
}

TEST(Pipeline, NoRouteIsRelayAccessDeniedAndRoutedSyntaxIsRefused) {
  auto pipeline = pipeline_with({Route{{"example.com"}, "out", ""}});
  intake::Origin origin;
  std::string stage;
  Verdict none = pipeline.recipient(origin, Address{}, {Address{"x", "other.test"}, 0, ""}, &stage);
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(stage, "route");
  EXPECT_EQ(none.reply, "<x@other.test>: Relay access denied");
  Verdict routed =
      pipeline.recipient(origin, Address{}, {Address{"x%y", "example.com"}, 0, ""}, &stage);
  EXPECT_FALSE(routed.accepted);
  EXPECT_EQ(routed.enhanced, "5.7.1");
}

TEST(Pipeline, TooManyReceivedFieldsIsALoop) {
  auto pipeline = pipeline_with({Route{{"example.com"}, "out", ""}});
  Envelope envelope;
  envelope.recipients.push_back({Address{"x", "example.com"}, 0, ""});
  std::string content;
  for (int i = 0; i < 51; ++i) content += "Received: from hop" + std::to_string(i) + "\r\n";
  content += "Subject: s\r\n\r\nbody\r\n";
  std::size_t header_size = content.find("\r\n\r\n") + 4;
  auto decision =
      pipeline.message(intake::Origin{}, envelope, content, header_size, content.size(), 0);
  EXPECT_FALSE(decision.verdict.accepted);
  EXPECT_EQ(decision.verdict.code, 554);
  EXPECT_EQ(decision.verdict.enhanced, "5.4.6");
  ASSERT_FALSE(decision.trace.empty());
  EXPECT_EQ(decision.trace.back().stage, "loop");
}

}  // namespace
