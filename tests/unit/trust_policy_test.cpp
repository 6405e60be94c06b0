// Table tests of the trust decisions: certificate x IP x tenant header x
// sender, each with the exact reply (docs/inbound-trust.md).
// The access lists, the connector match and the partner lockdown too.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "policy/trust_policy.hpp"
#include "tests/unit/trust_policy_fixture.hpp"

using namespace bh;
using namespace bh::trust_test;

TEST(TrustPolicy, EveryCombination) {
  Fixture f;
  const std::string no_service =
      "550 5.7.1 <+4930123456@fax.example.test>: this connection may not use the fax service";
  int cases = 0;
  for (Cert cert : {Cert::none, Cert::self_signed, Cert::wrong_name, Cert::right_name})
    for (Ip ip : {Ip::in_range, Ip::out_of_range})
      for (TenantHeader header : {TenantHeader::none, TenantHeader::good, TenantHeader::foreign,
                                  TenantHeader::two, TenantHeader::malformed})
        for (Sender sender :
             {Sender::unknown, Sender::other_tenant, Sender::no_permission, Sender::allowed}) {
          ++cases;
          std::string expected;
          if (cert != Cert::right_name || ip != Ip::in_range) {
            expected = no_service;  // not the connector: not even the recipient is accepted
          } else if (header == TenantHeader::none) {
            expected = "550 5.7.1 Message refused: no X-MS-Exchange-CrossTenant-Id header";
          } else if (header == TenantHeader::two) {
            expected = "550 5.7.1 Message refused: several X-MS-Exchange-CrossTenant-Id headers";
          } else if (header == TenantHeader::malformed) {
            expected = "550 5.7.1 Message refused: X-MS-Exchange-CrossTenant-Id is not a tenant id";
          } else if (header == TenantHeader::foreign) {  // EchoSpoofing
            expected =
                "550 5.7.1 Message refused: tenant " + kT2 + " is not accepted by connector exo";
          } else if (sender == Sender::unknown) {
            expected =
                "550 5.7.1 Sender <mallory@contoso.test> is not permitted to use the fax "
                "service";
          } else if (sender == Sender::other_tenant) {
            expected = "550 5.7.1 Sender <eve@fabrikam.test> does not belong to the sending tenant";
          } else if (sender == Sender::no_permission) {
            expected =
                "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service";
          } else {
            expected = "250 accepted";
          }
          EXPECT_EQ(outcome(f, cert, ip, header, sender), expected)
              << "cert " << int(cert) << " ip " << int(ip) << " header " << int(header)
              << " sender " << int(sender);
        }
  EXPECT_EQ(cases, 160);
}

TEST(TrustPolicy, ForgedHeadersAreRemovedFromUntrustedConnections) {
  Fixture f;
  PeerFacts facts = peer(Cert::none, Ip::in_range);
  Envelope envelope;
  envelope.sender = Address{"a", "example.net"};
  envelope.recipients.push_back({Address{"b", "example.test"}});
  std::string content =
      "From: a@example.net\r\nX-MS-Exchange-CrossTenant-Id: " + kT1 +
      "\r\nx-ms-exchange-organization-authas: Internal\r\n\tfolded\r\nSubject: s\r\n\r\n"
      "X-MS-Exchange-CrossTenant-Id: in the body stays\r\n";
  DataDecision d = f.policy.on_data(nullptr, facts, envelope, content);
  EXPECT_TRUE(d.verdict.accepted);
  EXPECT_EQ(d.removed_headers.size(), 2u);
  EXPECT_EQ(content,
            "From: a@example.net\r\nSubject: s\r\n\r\nX-MS-Exchange-CrossTenant-Id: in the body "
            "stays\r\n");
}

TEST(TrustPolicy, ValidationProbeIsAcceptedNotDelivered) {
  Fixture f;
  PeerFacts facts = peer(Cert::right_name, Ip::in_range);
  Envelope envelope;  // null sender
  envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
  std::string content =
      "From: O365ConnectorValidation@contoso.onmicrosoft.com\r\n"
      "X-MS-Exchange-CrossTenant-Id: " +
      kT1 +
      "\r\nX-MS-Exchange-CrossTenant-FromEntityHeader: Internet\r\n"
      "X-OriginatorOrg: contoso.onmicrosoft.com\r\n\r\nTest\r\n";
  DataDecision d = f.policy.on_data(f.policy.identify(facts), facts, envelope, content);
  EXPECT_TRUE(d.verdict.accepted);
  EXPECT_TRUE(d.discard);
}

TEST(TrustPolicy, InternetMailAndOriginatorOrg) {
  Fixture f;
  PeerFacts facts = peer(Cert::right_name, Ip::in_range);
  const InboundConnector* exo = f.policy.identify(facts);
  Envelope envelope;
  envelope.sender = Address{"alice", "contoso.test"};
  envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
  std::string base = "From: alice@contoso.test\r\nX-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n";
  std::string internet = base +
                         "X-MS-Exchange-CrossTenant-AuthAs: Anonymous\r\n"
                         "X-OriginatorOrg: contoso.onmicrosoft.com\r\n\r\nx\r\n";
  EXPECT_EQ(f.policy.on_data(exo, facts, envelope, internet).verdict.reply,
            "Message refused: mail that entered the tenant from the internet may not use this "
            "service");
  std::string wrong_org = base + "X-OriginatorOrg: fabrikam.test\r\n\r\nx\r\n";
  EXPECT_EQ(f.policy.on_data(exo, facts, envelope, wrong_org).verdict.reply,
            "Message refused: X-OriginatorOrg fabrikam.test does not belong to the tenant");
  std::string other_from = "From: x@fabrikam.test\r\nX-MS-Exchange-CrossTenant-Id: " + kT1 +
                           "\r\nX-MS-Exchange-CrossTenant-AuthAs: Internal"
                           "\r\nX-OriginatorOrg: contoso.test\r\n\r\nx\r\n";
  EXPECT_EQ(f.policy.on_data(exo, facts, envelope, other_from).verdict.reply,
            "From: address does not belong to the sending tenant");
}

TEST(TrustPolicy, AccessListsAllowOverridesBlock) {
  RoutingTable routes;
  TrustConfig c;
  c.access.block = {*IpRange::parse("0.0.0.0/0"), *IpRange::parse("::/0")};
  c.access.allow = {*IpRange::parse("192.0.2.0/24")};
  TrustPolicy policy(c, routes, nullptr);
  PeerFacts allowed, blocked, mapped;
  allowed.ip = IpAddress::parse("192.0.2.9");
  blocked.ip = IpAddress::parse("198.51.100.1");
  mapped.ip = IpAddress::parse("::ffff:192.0.2.9");
  EXPECT_TRUE(policy.on_connect(allowed).accepted);
  EXPECT_TRUE(policy.on_connect(mapped).accepted);
  Verdict v = policy.on_connect(blocked);
  EXPECT_EQ(fmt::format("{} {}", v.code, v.enhanced), "554 5.7.1");
}

TEST(TrustPolicy, PartnerLockdownAtRcpt) {
  RoutingTable routes({Route{{"example.test"}, "files", ""}});
  TrustConfig c;
  InboundConnector partner;
  partner.name = "partner-lock";
  partner.ip_ranges = {*IpRange::parse("203.0.113.0/24")};
  partner.restrict_sender_domains = {"*"};
  c.connectors.push_back(partner);
  TrustPolicy policy(c, routes, nullptr);
  Recipient r{Address{"b", "example.test"}};
  PeerFacts outside, inside;
  outside.ip = IpAddress::parse("198.51.100.1");
  inside.ip = IpAddress::parse("203.0.113.5");
  Verdict refused = policy.on_rcpt(policy.identify(outside), outside, Address{"x", "any.test"}, r);
  EXPECT_EQ(refused.code, 550);
  EXPECT_EQ(refused.enhanced, "5.7.51");
  EXPECT_EQ(refused.reply.rfind("TenantInboundAttribution; ", 0), 0u);
  EXPECT_NE(refused.reply.find("partner-lock"), std::string::npos);
  EXPECT_TRUE(
      policy.on_rcpt(policy.identify(inside), inside, Address{"x", "any.test"}, r).accepted);
}

TEST(IpRange, ParsesAndMatches) {
  auto v4 = *IpRange::parse("40.92.0.0/15");
  EXPECT_TRUE(v4.contains(*IpAddress::parse("40.93.255.255")));
  EXPECT_FALSE(v4.contains(*IpAddress::parse("40.94.0.0")));
  auto v6 = *IpRange::parse("2a01:111:f400::/48");
  EXPECT_TRUE(v6.contains(*IpAddress::parse("2a01:111:f400:1::5")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("2a01:111:f401::5")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("40.92.0.1")));
  EXPECT_FALSE(IpRange::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpRange::parse("nonsense"));
}

TEST(TenantGuid, Format) {
  EXPECT_TRUE(is_tenant_guid(kT1));
  EXPECT_FALSE(is_tenant_guid("4a1c1a0e2d3b4f5e8a9b0c1d2e3f4a5b"));
  EXPECT_FALSE(is_tenant_guid(kT1 + "0"));
  EXPECT_FALSE(is_tenant_guid("zzzzzzzz-2d3b-4f5e-8a9b-0c1d2e3f4a5b"));
}

TEST(TrustPolicy, ConnectorCaFileIsTheOnlyTrustAnchorForItsConnector) {
  RoutingTable routes;
  TrustConfig c = config();
  c.connectors[0].ca_file = "/etc/bridgehead/digicert.pem";
  TrustPolicy policy(c, routes, nullptr);
  PeerFacts facts = peer(Cert::right_name, Ip::in_range);
  // Verified against the listener's bundle (say, a partner's private CA) is not enough.
  facts.cert_verified = true;
  EXPECT_EQ(policy.identify(facts), nullptr);
  facts.cert_verified_by = {"/etc/bridgehead/digicert.pem"};
  EXPECT_NE(policy.identify(facts), nullptr);
  EXPECT_TRUE(policy.verified_microsoft365(policy.identify(facts), facts));
}
