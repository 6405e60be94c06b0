// The intake's decisions as a table: what RCPT TO accepts before the tenant
// is known, and where the end of the message routes each recipient.
#include "intake/pipeline.hpp"

#include <gtest/gtest.h>

#include <map>

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

// A fax connector's recipients use the fax service whatever sends them
// there: the kind's service (connectors::KindDefinition::service), given
// to the routing table by connector name.
constexpr const char* kFaxDomain = "fax.example.com";

class Users : public directory::DirectoryView {
 public:
  directory::Lookup<directory::User> find_user(std::string_view address) const override {
    auto it = users.find(to_lower_ascii(address));
    if (it == users.end()) return directory::Lookup<directory::User>::absent();
    return directory::Lookup<directory::User>::found(it->second);
  }
  directory::Lookup<directory::NumberOwner> find_number(std::string_view) const override {
    return directory::Lookup<directory::NumberOwner>::absent();
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view) const override {
    return directory::Lookup<directory::Tenant>::absent();
  }
  std::map<std::string, directory::User> users;
};

struct FaxFixture {
  FaxFixture() {
    directory::User alice;
    alice.address = "alice@contoso.test";
    alice.tenant = kT1;
    alice.permissions = {"fax"};
    directory::User bob = alice;
    bob.address = "bob@contoso.test";
    bob.permissions = {};
    users.users = {{alice.address, alice}, {bob.address, bob}};
    InboundConnector partner;  // contoso's own mail server, by its address
    partner.name = "contoso";
    partner.kind = ConnectorKind::internal;
    partner.ip_ranges = {*IpRange::parse("10.0.0.0/8")};
    partner.services = {"fax"};
    trust.connectors.push_back(partner);
    InboundConnector plain = partner;  // another one, without the fax service
    plain.name = "relay";
    plain.ip_ranges = {*IpRange::parse("192.0.2.0/24")};
    plain.services = {};
    trust.connectors.push_back(plain);
    trust.tenants.push_back({kT1, "contoso", {"contoso.test"}, false});
  }

  intake::Pipeline pipeline(std::vector<Route> routes,
                            std::shared_ptr<const TransportRules> rules = {}) const {
    return intake::Pipeline(std::make_shared<const PolicySet>(
        std::move(routes), trust, &users, std::move(rules), nullptr, Limits{},
        RoutingTable::ConnectorServices{{"faxc", "fax"}}));
  }
  intake::Origin origin(const char* connector) const {
    intake::Origin o;
    for (const InboundConnector& c : trust.connectors)
      if (c.name == connector) o.connector = &c;
    o.peer.ip =
        IpAddress::parse(o.connector && o.connector->name == "relay" ? "192.0.2.1" : "10.1.2.3");
    return o;
  }

  Users users;
  TrustConfig trust;
};

struct Sent {
  intake::MessageDecision decision;
  Envelope envelope;
};

Sent send(const intake::Pipeline& pipeline, const intake::Origin& origin, const std::string& from,
          const std::string& to, intake::Source source = intake::Source::smtp) {
  intake::Origin o = origin;
  o.source = source;
  Sent sent;
  std::size_t at = from.find('@');
  sent.envelope.sender =
      from.empty() ? Address{} : Address{from.substr(0, at), from.substr(at + 1)};
  at = to.find('@');
  sent.envelope.recipients.push_back({Address{to.substr(0, at), to.substr(at + 1)}, 0, ""});
  std::string content = "From: " + (from.empty() ? std::string("postmaster@gw.test") : from) +
                        "\r\nSubject: s\r\n\r\nbody\r\n";
  std::size_t header_size = content.find("\r\n\r\n") + 4;
  sent.decision = pipeline.message(o, sent.envelope, content, header_size, content.size(), 0);
  return sent;
}

Verdict rcpt(const intake::Pipeline& pipeline, const intake::Origin& origin,
             const std::string& to) {
  std::size_t at = to.find('@');
  return pipeline.recipient(origin, Address{"alice", "contoso.test"},
                            {Address{to.substr(0, at), to.substr(at + 1)}, 0, ""});
}

const std::string kNotPermitted =
    "Sender <bob@contoso.test> is not permitted to use the fax service";

// The reviewer's case: a route to the fax connector that names no service.
TEST(FaxPermission, RouteWithoutServiceToAFaxConnectorNeedsThePermission) {
  FaxFixture f;
  auto pipeline = f.pipeline({Route{{kFaxDomain}, "faxc", ""}});
  std::string number = std::string("+4930123456@") + kFaxDomain;

  Verdict anyone = rcpt(pipeline, intake::Origin{}, number);  // no inbound connector
  EXPECT_FALSE(anyone.accepted);
  EXPECT_EQ(anyone.reply, "<" + number + ">: this connection may not use the fax service");
  Verdict relay = rcpt(pipeline, f.origin("relay"), number);
  EXPECT_FALSE(relay.accepted);
  EXPECT_EQ(relay.reason, "connector relay does not offer service fax");
  EXPECT_TRUE(rcpt(pipeline, f.origin("contoso"), number).accepted);

  Sent bob = send(pipeline, f.origin("contoso"), "bob@contoso.test", number);
  EXPECT_FALSE(bob.decision.verdict.accepted);
  EXPECT_EQ(bob.decision.verdict.code, 550);
  EXPECT_EQ(bob.decision.verdict.enhanced, "5.7.1");
  EXPECT_EQ(bob.decision.verdict.reply, kNotPermitted);
  EXPECT_EQ(bob.decision.verdict.reason, "no fax permission");
  Sent stranger = send(pipeline, f.origin("contoso"), "mallory@contoso.test", number);
  EXPECT_FALSE(stranger.decision.verdict.accepted);
  EXPECT_EQ(stranger.decision.verdict.reason, "sender not in the directory");
  Sent alice = send(pipeline, f.origin("contoso"), "alice@contoso.test", number);
  EXPECT_TRUE(alice.decision.verdict.accepted) << alice.decision.verdict.reason;
  EXPECT_FALSE(alice.decision.discard);
}

// A route scoped to an inbound connector leads to the fax connector: the
// scope is known at RCPT TO, and the kind's service applies there too.
TEST(FaxPermission, ScopedRouteToAFaxConnectorNeedsThePermission) {
  FaxFixture f;
  Route scoped{{kFaxDomain}, "faxc", ""};
  scoped.from_connectors = {"relay"};
  auto pipeline = f.pipeline({scoped, Route{{kFaxDomain}, "files", ""}});
  std::string number = std::string("+4930123456@") + kFaxDomain;
  Verdict relay = rcpt(pipeline, f.origin("relay"), number);
  EXPECT_FALSE(relay.accepted);
  EXPECT_EQ(relay.reason, "connector relay does not offer service fax");
  // Others take the unscoped route to a file connector: no service.
  EXPECT_TRUE(rcpt(pipeline, intake::Origin{}, number).accepted);
  EXPECT_TRUE(
      send(pipeline, intake::Origin{}, "bob@contoso.test", number).decision.verdict.accepted);
}

// A transport rule redirects mail for an ordinary domain to the fax
// connector: no route names the fax connector (so no route's service
// applies), the kind's service does.
TEST(FaxPermission, RuleRedirectToAFaxConnectorNeedsThePermission) {
  FaxFixture f;
  TransportRule redirect;
  redirect.name = "to-fax";
  RuleCondition to_fax;
  to_fax.kind = RuleCondition::Kind::recipient_domain;
  to_fax.values = {"example.test"};
  redirect.conditions.push_back(to_fax);
  redirect.route_to = "faxc";
  auto rules = std::make_shared<const TransportRules>(std::vector<TransportRule>{redirect});
  auto pipeline = f.pipeline({Route{{"example.test"}, "files", ""}}, rules);
  // RCPT TO cannot know the rule (it depends on the message): accepted.
  EXPECT_TRUE(rcpt(pipeline, f.origin("relay"), "x@example.test").accepted);

  Sent bob = send(pipeline, f.origin("contoso"), "bob@contoso.test", "x@example.test");
  EXPECT_FALSE(bob.decision.verdict.accepted);
  EXPECT_EQ(bob.decision.verdict.reply, kNotPermitted);
  // The connection's inbound connector must offer the service as well.
  Sent relayed = send(pipeline, f.origin("relay"), "alice@contoso.test", "x@example.test");
  EXPECT_FALSE(relayed.decision.verdict.accepted);
  EXPECT_EQ(relayed.decision.verdict.reply,
            "<x@example.test>: this connection may not use the fax service");
  Sent alice = send(pipeline, f.origin("contoso"), "alice@contoso.test", "x@example.test");
  EXPECT_TRUE(alice.decision.verdict.accepted) << alice.decision.verdict.reason;
  EXPECT_EQ(alice.envelope.recipients[0].connector, "faxc");
  // Without the kind's service the same redirect needed nothing (the old gap).
  auto without_kind = intake::Pipeline(std::make_shared<const PolicySet>(
      std::vector<Route>{Route{{"example.test"}, "files", ""}}, f.trust, &f.users, rules));
  EXPECT_TRUE(send(without_kind, f.origin("contoso"), "bob@contoso.test", "x@example.test")
                  .decision.verdict.accepted);
}

// A DSN (the gateway's own mail, no sender to check) to a fax address is
// discarded, never faxed; a received fax for a fax address is refused.
TEST(FaxPermission, GatewayMailToAFaxAddressIsDiscardedAndAReceivedFaxRefused) {
  FaxFixture f;
  auto pipeline =
      f.pipeline({Route{{kFaxDomain}, "faxc", ""}, Route{{"contoso.test"}, "files", ""}});
  std::string number = std::string("+499001234567@") + kFaxDomain;
  Sent dsn = send(pipeline, intake::Origin{}, "", number, intake::Source::local);
  EXPECT_TRUE(dsn.decision.verdict.accepted);
  EXPECT_TRUE(dsn.decision.discard);
  ASSERT_FALSE(dsn.decision.trace.empty());
  EXPECT_EQ(dsn.decision.trace.back().stage, "service");
  EXPECT_EQ(dsn.decision.trace.back().verdict.reason,
            "discarded: " + number +
                " is routed to connector faxc (service fax); local mail has no sender whose "
                "permission could be checked");
  Sent to_mailbox =
      send(pipeline, intake::Origin{}, "", "alice@contoso.test", intake::Source::local);
  EXPECT_TRUE(to_mailbox.decision.verdict.accepted);
  EXPECT_FALSE(to_mailbox.decision.discard);

  Sent fax = send(pipeline, intake::Origin{}, "postmaster@gw.test", number, intake::Source::fax);
  EXPECT_FALSE(fax.decision.verdict.accepted);
  EXPECT_EQ(fax.decision.verdict.code, 550);
  EXPECT_EQ(fax.decision.verdict.enhanced, "5.7.1");
  EXPECT_EQ(fax.decision.verdict.reply,
            "<" + number + ">: a received fax may not use the fax service");
  EXPECT_TRUE(send(pipeline, intake::Origin{}, "postmaster@gw.test", "alice@contoso.test",
                   intake::Source::fax)
                  .decision.verdict.accepted);
}

}  // namespace
