// Table tests of the trust decisions: certificate x IP x tenant header x
// sender, each with the exact reply (docs/inbound-trust.md).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "policy/trust_policy.hpp"

using namespace bh;

namespace {

const std::string kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
const std::string kT2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

directory::User make_user(std::string address, std::string tenant,
                          std::vector<std::string> permissions,
                          std::vector<std::string> aliases = {},
                          std::vector<std::string> send_as = {}) {
  directory::User user;
  user.address = std::move(address);
  user.tenant = std::move(tenant);
  user.permissions = std::move(permissions);
  user.aliases = std::move(aliases);
  user.send_as = std::move(send_as);
  return user;
}

class FakeDirectory : public directory::DirectoryView {
 public:
  // By primary address or alias, case-insensitively, as DirectoryView asks.
  directory::Lookup<directory::User> find_user(std::string_view address) const override {
    if (!unavailable.empty()) return directory::Lookup<directory::User>::unavailable(unavailable);
    std::string key = to_lower_ascii(address);
    for (const auto& [primary, user] : users)
      if (primary == key ||
          std::find(user.aliases.begin(), user.aliases.end(), key) != user.aliases.end())
        return directory::Lookup<directory::User>::found(user);
    return directory::Lookup<directory::User>::absent();
  }
  directory::Lookup<directory::NumberOwner> find_number(std::string_view) const override {
    return directory::Lookup<directory::NumberOwner>::absent();
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view id) const override {
    if (!unavailable.empty()) return directory::Lookup<directory::Tenant>::unavailable(unavailable);
    auto it = tenants.find(std::string(id));
    if (it == tenants.end()) return directory::Lookup<directory::Tenant>::absent();
    return directory::Lookup<directory::Tenant>::found(it->second);
  }
  std::string unavailable;  // set: every lookup answers unavailable with it
  std::map<std::string, directory::Tenant> tenants;
  std::map<std::string, directory::User> users{
      {"alice@contoso.test", make_user("alice@contoso.test", kT1, {"fax"})},
      {"bob@contoso.test", make_user("bob@contoso.test", kT1, {})},
      {"eve@fabrikam.test", make_user("eve@fabrikam.test", kT2, {"fax"})},
      {"fred@contoso.test", make_user("fred@contoso.test", kT1, {"fax"})},  // a colleague with fax
      {"carol@contoso.test",
       make_user("carol@contoso.test", kT2, {"fax"})},  // listed under another tenant
  };
};

TrustConfig config() {
  TrustConfig c;
  InboundConnector exo;
  exo.name = "exo";
  exo.kind = ConnectorKind::microsoft365;
  exo.certificate_names = {"mail.protection.outlook.com"};
  exo.ip_ranges = {*IpRange::parse("40.92.0.0/15"), *IpRange::parse("2a01:111:f400::/48")};
  exo.tenants = {kT1};
  exo.services = {"fax"};
  c.connectors.push_back(exo);
  c.tenants.push_back({kT1, "contoso", {"contoso.test", "contoso.onmicrosoft.com"}, true});
  c.tenants.push_back({kT2, "fabrikam", {"fabrikam.test"}, false});
  return c;
}

struct Fixture {
  RoutingTable routes{
      {Route{{"fax.example.test"}, "fax-out", "fax"}, Route{{"example.test"}, "files", ""}}};
  FakeDirectory directory;
  TrustPolicy policy{config(), routes, &directory};
};

enum class Cert { none, self_signed, wrong_name, right_name };
enum class Ip { in_range, out_of_range };
enum class TenantHeader { none, good, foreign, two, malformed };
enum class Sender { unknown, other_tenant, no_permission, allowed };

PeerFacts peer(Cert cert, Ip ip) {
  PeerFacts p;
  p.ip = IpAddress::parse(ip == Ip::in_range ? "40.93.1.2" : "198.51.100.7");
  p.tls = true;
  switch (cert) {
    case Cert::none:
      break;
    case Cert::self_signed:  // right name, but the chain did not verify
      p.cert_common_name = "mail.protection.outlook.com";
      break;
    case Cert::wrong_name:
      p.cert_verified = true;
      p.cert_common_name = "mail.example.net";
      p.cert_dns_names = {"mail.example.net"};
      break;
    case Cert::right_name:
      p.cert_verified = true;
      p.cert_common_name = "mail.protection.outlook.com";
      p.cert_dns_names = {"mail.protection.outlook.com"};
      break;
  }
  return p;
}

std::string sender_of(Sender s) {
  switch (s) {
    case Sender::unknown:
      return "mallory@contoso.test";
    case Sender::other_tenant:
      return "eve@fabrikam.test";
    case Sender::no_permission:
      return "bob@contoso.test";
    case Sender::allowed:
      return "alice@contoso.test";
  }
  return "";
}

std::string headers_of(TenantHeader h, const std::string& from) {
  std::string out = "Received: from x\r\n\tby y; date\r\nFrom: Someone <" + from + ">\r\n";
  switch (h) {
    case TenantHeader::none:
      break;
    case TenantHeader::good:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n";
      break;
    case TenantHeader::foreign:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT2 + "\r\n";
      break;
    case TenantHeader::two:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\nX-MS-Exchange-CrossTenant-Id: " + kT1 +
             "\r\n";
      break;
    case TenantHeader::malformed:
      out += "X-MS-Exchange-CrossTenant-Id: not-a-guid\r\n";
      break;
  }
  // What Exchange Online stamps on a tenant user's mail (internal, hosted).
  out +=
      "X-MS-Exchange-CrossTenant-AuthAs: Internal\r\n"
      "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted\r\n";
  out += "X-OriginatorOrg: contoso.onmicrosoft.com\r\nSubject: fax\r\n\r\nbody\r\n";
  return out;
}

// The whole conversation: MAIL, RCPT to the fax route, end of DATA.
std::string outcome(Fixture& f, Cert cert, Ip ip, TenantHeader header, Sender sender) {
  PeerFacts facts = peer(cert, ip);
  const InboundConnector* connector = f.policy.identify(facts);
  std::string address = sender_of(sender);
  Envelope envelope;
  envelope.sender = *parse_path("<" + address + ">", false, false).address;
  Recipient fax{*parse_path("<+4930123456@fax.example.test>", false, false).address};
  auto show = [](const Verdict& v) { return fmt::format("{} {} {}", v.code, v.enhanced, v.reply); };
  Verdict mail = f.policy.on_mail(connector, facts);
  if (!mail.accepted) return show(mail);
  Verdict rcpt = f.policy.on_rcpt(connector, facts, envelope.sender, fax);
  if (!rcpt.accepted) return show(rcpt);
  envelope.recipients.push_back(fax);
  std::string content = headers_of(header, address);
  DataDecision data = f.policy.on_data(connector, facts, envelope, content);
  return data.verdict.accepted ? "250 accepted" : show(data.verdict);
}

}  // namespace

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

// ---------------------------------------------------------------------------
// Issue 7 items 2-4: From:/Sender: parsing, the sender shown, tenant markers.

namespace {

const std::string kTenantLines =
    "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\nX-OriginatorOrg: contoso.onmicrosoft.com\r\n";
const std::string kInternal =
    "X-MS-Exchange-CrossTenant-AuthAs: Internal\r\n"
    "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted\r\n";
const std::string kInternet =
    "550 5.7.1 Message refused: mail that entered the tenant from the internet may not use "
    "this service";

struct Policy {
  RoutingTable routes{
      {Route{{"fax.example.test"}, "fax-out", "fax"}, Route{{"example.test"}, "files", ""}}};
  FakeDirectory directory;
  TrustPolicy policy;
  explicit Policy(TrustConfig c = config()) : policy(std::move(c), routes, &directory) {}
};

// End of DATA on the verified Microsoft 365 connection, one fax recipient.
DataDecision m365_data(const TrustPolicy& policy, const std::string& sender,
                       const std::string& header_lines) {
  PeerFacts facts = peer(Cert::right_name, Ip::in_range);
  const InboundConnector* c = policy.identify(facts);
  EXPECT_NE(c, nullptr);
  Envelope envelope;
  if (!sender.empty()) envelope.sender = *parse_path("<" + sender + ">", false, false).address;
  envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
  std::string content = header_lines + "Subject: fax\r\n\r\nbody\r\n";
  return policy.on_data(c, facts, envelope, content);
}

std::string show(const Verdict& v) {
  return v.accepted ? "250 accepted" : fmt::format("{} {} {}", v.code, v.enhanced, v.reply);
}

}  // namespace

TEST(TrustPolicy, TenantMarkersFailClosed) {
  const std::string authas = "X-MS-Exchange-CrossTenant-AuthAs: ";
  const std::string entity = "X-MS-Exchange-CrossTenant-FromEntityHeader: ";
  struct Case {
    std::string markers;
    std::string expected;  // "250 accepted" or kInternet
    std::string reason;    // for refusals: a phrase of the log reason
  };
  const std::vector<Case> cases = {
      {authas + "Internal\r\n", "250 accepted", ""},
      {authas + "internal\r\n", "250 accepted", ""},
      {authas + "Internal\r\n" + entity + "Hosted\r\n", "250 accepted", ""},
      {authas + "Internal\r\n" + entity + "hosted\r\n", "250 accepted", ""},
      {"", kInternet, "no X-MS-Exchange-CrossTenant-AuthAs header"},
      {entity + "Hosted\r\n", kInternet, "no X-MS-Exchange-CrossTenant-AuthAs header"},
      {authas + "Internal\r\n" + authas + "Anonymous\r\n", kInternet,
       "2 X-MS-Exchange-CrossTenant-AuthAs headers"},
      {authas + "Anonymous\r\n" + authas + "Internal\r\n", kInternet, "2 X-MS-Exchange"},
      {authas + "Internal\r\n" + authas + "Internal\r\n", kInternet, "2 X-MS-Exchange"},
      {authas + "Internal\r\nx-ms-exchange-crosstenant-authas: Internal\r\n", kInternet,
       "2 X-MS-Exchange"},
      {authas + "Anonymous\r\n", kInternet, "is 'Anonymous', not Internal"},
      {authas + "External\r\n", kInternet, "is 'External'"},
      {authas + "Partner\r\n", kInternet, "is 'Partner'"},
      {authas + "\r\n", kInternet, "not Internal"},
      {authas + "Internal, Anonymous\r\n", kInternet, "not Internal"},
      {authas + "Internal\r\n" + entity + "Internet\r\n", kInternet,
       "FromEntityHeader is 'Internet', not Hosted"},
      {authas + "Internal\r\n" + entity + "\r\n", kInternet, "not Hosted"},
      {authas + "Internal\r\n" + entity + "Hosted\r\n" + entity + "Hosted\r\n", kInternet,
       "2 X-MS-Exchange-CrossTenant-FromEntityHeader headers"},
      {authas + "Internal\r\n" + entity + "Hosted\r\n" + entity + "Internet\r\n", kInternet,
       "2 X-MS-Exchange-CrossTenant-FromEntityHeader headers"},
      {authas + "Intern\x01"
                "al\r\n",
       kInternet, "(unprintable or too long)"},
  };
  Policy p;
  for (const Case& c : cases) {
    Verdict v = m365_data(p.policy, "alice@contoso.test",
                          kTenantLines + c.markers + "From: alice@contoso.test\r\n")
                    .verdict;
    EXPECT_EQ(show(v), c.expected) << c.markers;
    if (!v.accepted) {
      EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.markers << " -> " << v.reason;
    }
  }
  // allow_internet_mail: the markers do not matter.
  TrustConfig open = config();
  open.connectors[0].allow_internet_mail = true;
  Policy q(open);
  EXPECT_TRUE(m365_data(q.policy, "alice@contoso.test",
                        kTenantLines + authas + "Internal\r\n" + authas + "Anonymous\r\n" +
                            "From: alice@contoso.test\r\n")
                  .verdict.accepted);
  EXPECT_TRUE(
      m365_data(q.policy, "alice@contoso.test", kTenantLines + "From: alice@contoso.test\r\n")
          .verdict.accepted);
}

TEST(TrustPolicy, FromHeaderTable) {
  const std::string malformed =
      "550 5.7.1 Message refused: the message needs exactly one well-formed From: header field";
  const std::string several =
      "550 5.7.1 Message refused: From: lists several mailboxes without a single Sender: mailbox";
  const std::string foreign = "550 5.7.1 From: address does not belong to the sending tenant";
  struct Case {
    std::string lines;  // From:/Sender: header lines
    std::string expected;
    std::string reason;  // a phrase of the log reason
  };
  const std::vector<Case> cases = {
      {"From: alice@contoso.test\r\n", "250 accepted", ""},
      {"From: Alice Example <alice@contoso.test> (fax)\r\n", "250 accepted", ""},
      {"From: \"Example, Alice\" <ALICE@Contoso.Test>\r\n", "250 accepted", ""},
      {"From:\r\n Alice\r\n <alice@contoso.test>\r\n", "250 accepted", ""},
      {"From: =?utf-8?q?Alice?= <alice@contoso.test>\r\n", "250 accepted", ""},
      {"", malformed, "no From: header field"},
      {"From: alice@contoso.test\r\nFrom: alice@contoso.test\r\n", malformed,
       "2 From: header fields"},
      {"From: alice@contoso.test\r\nfrom: mallory@evil.example\r\n", malformed,
       "2 From: header fields"},
      // the comment attack and its relatives
      {"From: mallory@evil.example (<alice@contoso.test>)\r\n", foreign,
       "From: domain 'evil.example'"},
      {"From: \"alice@contoso.test\" <mallory@evil.example>\r\n", foreign, "evil.example"},
      {"From: \"x <alice@contoso.test>\" <mallory@evil.example>\r\n", foreign, "evil.example"},
      {"From: =?utf-8?q?alice@contoso.test?= <mallory@evil.example>\r\n", foreign, "evil.example"},
      {"From: alice@contoso.test <mallory@evil.example>\r\n", malformed,
       "two addresses in one mailbox"},
      {"From: <alice@contoso.test> <mallory@evil.example>\r\n", malformed,
       "two addresses in one mailbox"},
      {"From: \"alice@contoso.test\r\n", malformed, "quoted string not closed"},
      {"From: alice@contoso.test (x\r\n", malformed, "comment not closed"},
      {"From: <alice@contoso.test\r\n", malformed, "unbalanced '<'"},
      {"From: \r\n", malformed, "empty value"},
      {std::string("From: alice@contoso.test\0\r\n", 27), malformed, "NUL byte"},
      {"From: contoso: alice@contoso.test;\r\n", malformed, "group syntax"},
      {"From: undisclosed-recipients:;\r\n", malformed, "group syntax"},
      // several mailboxes: only with a single Sender:, which is then the one checked
      {"From: alice@contoso.test, fred@contoso.test\r\n", several, "no Sender: header field"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: alice@contoso.test\r\n",
       "250 accepted", ""},
      {"From: fred@contoso.test, alice@contoso.test\r\nSender: Alice <alice@contoso.test>\r\n",
       "250 accepted", ""},
      {"From: alice@contoso.test, m@evil.example\r\nSender: alice@contoso.test\r\n", foreign,
       "evil.example"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: a@contoso.test, b@contoso.test\r\n",
       several, "Sender: lists 2 mailboxes"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: alice@contoso.test\r\n"
       "Sender: alice@contoso.test\r\n",
       several, "2 Sender: header fields"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: \"alice@contoso.test\r\n", several,
       "Sender: header field malformed"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: m@evil.example\r\n",
       "550 5.7.1 Sender: address does not belong to the sending tenant", "Sender: domain"},
      {"From: alice@contoso.test, fred@contoso.test\r\nSender: bob@contoso.test\r\n",
       "550 5.7.1 Sender: <bob@contoso.test> is not permitted to use the fax service",
       "no fax permission"},
  };
  Policy p;
  for (const Case& c : cases) {
    Verdict v =
        m365_data(p.policy, "alice@contoso.test", kTenantLines + kInternal + c.lines).verdict;
    EXPECT_EQ(show(v), c.expected) << c.lines;
    if (!v.accepted) {
      EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.lines << " -> " << v.reason;
      // The client is never shown the raw From: bytes of a malformed field.
      if (c.expected == malformed) {
        EXPECT_EQ(v.reply.find("alice"), std::string::npos);
      }
    }
  }
}

TEST(TrustPolicy, SenderShownMustHoldThePermission) {
  struct Case {
    std::string from;
    std::string by_default;  // sender_check = "envelope_and_from"
    std::string envelope_only;
  };
  const std::string bob =
      "550 5.7.1 From: <bob@contoso.test> is not permitted to use the fax service";
  const std::vector<Case> cases = {
      {"alice@contoso.test", "250 accepted", "250 accepted"},
      {"Alice <alice@CONTOSO.TEST>", "250 accepted", "250 accepted"},  // same mailbox, no lookup
      {"fred@contoso.test", "250 accepted", "250 accepted"},           // a colleague with fax
      {"Fred@Contoso.Test", "250 accepted", "250 accepted"},
      {"Bob <bob@contoso.test>", bob, "250 accepted"},  // colleague without the permission
      {"\"bob\"@contoso.test", bob, "250 accepted"},
      {"mallory@contoso.test",  // not in the directory: the same answer as bob's
       "550 5.7.1 From: <mallory@contoso.test> is not permitted to use the fax service",
       "250 accepted"},
      {"carol@contoso.test",  // in the directory under another tenant
       "550 5.7.1 From: <carol@contoso.test> is not permitted to use the fax service",
       "250 accepted"},
      {"\"b\\\"o b\"@contoso.test",
       "550 5.7.1 From: <\"b\\\"o b\"@contoso.test> is not permitted to use the fax service",
       "250 accepted"},
  };
  Policy strict;
  TrustConfig relaxed_config = config();
  relaxed_config.tenants[0].sender_check = SenderCheck::envelope;
  Policy relaxed(relaxed_config);
  for (const Case& c : cases) {
    std::string lines = kTenantLines + kInternal + "From: " + c.from + "\r\n";
    Verdict v = m365_data(strict.policy, "alice@contoso.test", lines).verdict;
    EXPECT_EQ(show(v), c.by_default) << c.from;
    if (!v.accepted) {
      EXPECT_NE(v.reason.find("From: mailbox"), std::string::npos) << v.reason;
    }
    EXPECT_EQ(show(m365_data(relaxed.policy, "alice@contoso.test", lines).verdict), c.envelope_only)
        << c.from;
  }
  // The envelope sender is still checked first, under both settings.
  for (Policy* p : {&strict, &relaxed})
    EXPECT_EQ(show(m365_data(p->policy, "bob@contoso.test",
                             kTenantLines + kInternal + "From: alice@contoso.test\r\n")
                       .verdict),
              "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service");
  // A UTF-8 mailbox is shown as it is; the reason names what was missing.
  Verdict utf8 = m365_data(strict.policy, "alice@contoso.test",
                           kTenantLines + kInternal + "From: j\xc3\xb6rg@contoso.test\r\n")
                     .verdict;
  EXPECT_EQ(show(utf8),
            "550 5.7.1 From: <j\xc3\xb6rg@contoso.test> is not permitted to use the fax service");
  EXPECT_EQ(utf8.reason, "From: mailbox not in the directory");
}

TEST(TrustPolicy, SenderShownOnPartnerConnectionToo) {
  TrustConfig c = config();
  InboundConnector partner;
  partner.name = "relay";
  partner.ip_ranges = {*IpRange::parse("198.51.100.0/24")};
  partner.services = {"fax"};
  c.connectors.push_back(partner);
  Policy p(c);
  PeerFacts facts = peer(Cert::none, Ip::out_of_range);  // 198.51.100.7
  const InboundConnector* relay = p.policy.identify(facts);
  ASSERT_NE(relay, nullptr);
  ASSERT_EQ(relay->name, "relay");
  auto data = [&](const std::string& from) {
    Envelope envelope;
    envelope.sender = Address{"alice", "contoso.test"};
    envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
    std::string content = "From: " + from + "\r\nSubject: s\r\n\r\nbody\r\n";
    return show(p.policy.on_data(relay, facts, envelope, content).verdict);
  };
  EXPECT_EQ(data("alice@contoso.test"), "250 accepted");
  EXPECT_EQ(data("bob@contoso.test"),
            "550 5.7.1 From: <bob@contoso.test> is not permitted to use the fax service");
  EXPECT_EQ(data("m@evil.example (<alice@contoso.test>)"),
            "550 5.7.1 From: address does not belong to the sending tenant");
}

TEST(TrustPolicy, ValidationProbeNeedsAnUnambiguousFrom) {
  Policy p;
  auto probe = [&](const std::string& from_lines) {
    return m365_data(p.policy, "", kTenantLines + kInternal + from_lines);
  };
  DataDecision real = probe("From: O365ConnectorValidation@contoso.onmicrosoft.com\r\n");
  EXPECT_TRUE(real.verdict.accepted);
  EXPECT_TRUE(real.discard);
  DataDecision named =
      probe("From: Validation <o365connectorvalidation@Contoso.OnMicrosoft.com>\r\n");
  EXPECT_TRUE(named.discard);
  for (const std::string& lines :
       {std::string("From: x@evil.example (<O365ConnectorValidation@contoso.onmicrosoft.com>)\r\n"),
        std::string("From: O365ConnectorValidation@contoso.onmicrosoft.com\r\n"
                    "From: O365ConnectorValidation@contoso.onmicrosoft.com\r\n"),
        std::string("From: O365ConnectorValidation@contoso.onmicrosoft.com, a@contoso.test\r\n"),
        std::string("From: \"O365ConnectorValidation@contoso.onmicrosoft.com\" <a@b.test>\r\n"),
        std::string("From: O365ConnectorValidation@contoso.onmicrosoft.com.evil.example\r\n")}) {
    DataDecision d = probe(lines);
    EXPECT_FALSE(d.discard) << lines;
    EXPECT_FALSE(d.verdict.accepted) << lines;  // a null sender may not use the fax service
  }
}

TEST(TrustPolicy, OriginatorOrgIsNotEchoedRaw) {
  Policy p;
  auto reply = [&](const std::string& org_lines) {
    std::string lines = "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n" + org_lines + kInternal +
                        "From: alice@contoso.test\r\n";
    return m365_data(p.policy, "alice@contoso.test", lines).verdict.reply;
  };
  EXPECT_EQ(reply("X-OriginatorOrg: fabrikam.test\r\n"),
            "Message refused: X-OriginatorOrg fabrikam.test does not belong to the tenant");
  EXPECT_EQ(reply(""), "Message refused: X-OriginatorOrg (missing) does not belong to the tenant");
  EXPECT_EQ(reply("X-OriginatorOrg: contoso.test\r\nX-OriginatorOrg: contoso.test\r\n"),
            "Message refused: X-OriginatorOrg (repeated) does not belong to the tenant");
  EXPECT_EQ(reply("X-OriginatorOrg: evil\x01\x7f.test\r\n"),
            "Message refused: X-OriginatorOrg (unprintable or too long) does not belong to the "
            "tenant");
  EXPECT_EQ(reply("X-OriginatorOrg: " + std::string(300, 'a') + "\r\n"),
            "Message refused: X-OriginatorOrg (unprintable or too long) does not belong to the "
            "tenant");
}

// ---- The directory's aliases, delegations and tenants (issue 9 section 1).

namespace {

// A directory with an alias, a shared mailbox and a delegation.
void add_directory_entries(FakeDirectory& d) {
  d.users["alice@contoso.test"] =
      make_user("alice@contoso.test", kT1, {"fax"}, {"alice.smith@contoso.test", "as@contoso.test"},
                {"accounts@contoso.test"});
  d.users["accounts@contoso.test"] =  // a shared mailbox, no permission of its own
      make_user("accounts@contoso.test", kT1, {}, {"billing@contoso.test"});
  d.users["bob@contoso.test"] =
      make_user("bob@contoso.test", kT1, {}, {}, {"accounts@contoso.test"});
}

}  // namespace

TEST(TrustPolicy, AliasesAndDelegationsOfTheSender) {
  struct Case {
    std::string sender;
    std::string from;
    std::string expected;
    std::string reason;  // part of the log reason
  };
  const std::vector<Case> cases = {
      // The envelope sender by alias: its user's permissions.
      {"Alice.Smith@contoso.test", "alice.smith@contoso.test", "250 accepted", "tenant " + kT1},
      // A From: that is an alias of the sender's own user.
      {"alice@contoso.test", "as@contoso.test", "250 accepted", "an alias of the sender"},
      {"as@contoso.test", "alice@contoso.test", "250 accepted", "an alias of the sender"},
      // Send-as: the shared mailbox, by its address or its alias.
      {"alice@contoso.test", "accounts@contoso.test", "250 accepted", "send-as delegation"},
      {"alice@contoso.test", "Billing@contoso.test", "250 accepted", "send-as delegation"},
      // A delegation without the permission does not pass.
      {"bob@contoso.test", "accounts@contoso.test",
       "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service",
       "no fax permission"},
      // No delegation, and the mailbox has no permission of its own.
      {"fred@contoso.test", "accounts@contoso.test",
       "550 5.7.1 From: <accounts@contoso.test> is not permitted to use the fax service",
       "has no fax permission"},
      // Someone else's alias is someone else.
      {"fred@contoso.test", "as@contoso.test", "250 accepted", "From: mailbox allowed too"},
      {"bob@contoso.test", "as@contoso.test",
       "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service",
       "no fax permission"},
  };
  Policy p;
  add_directory_entries(p.directory);
  for (const Case& c : cases) {
    Verdict v = m365_data(p.policy, c.sender, kTenantLines + kInternal + "From: " + c.from + "\r\n")
                    .verdict;
    EXPECT_EQ(show(v), c.expected) << c.sender << " / " << c.from;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos)
        << c.sender << " / " << c.from << ": " << v.reason;
  }
}

TEST(TrustPolicy, TenantsPushedIntoTheDirectory) {
  const std::string kT3 = "0b0b0b0b-1111-4222-8333-444444444444";
  TrustConfig c = config();
  c.connectors[0].directory_tenants = true;  // exo accepts the directory's tenants too
  InboundConnector partner;
  partner.name = "relay";
  partner.ip_ranges = {*IpRange::parse("198.51.100.0/24")};
  partner.services = {"fax"};
  c.connectors.push_back(partner);
  Policy p(c);
  p.directory.tenants[kT3] = {kT3, "Northwind", {"northwind.test"}};
  p.directory.tenants[kT1] = {kT1, "Contoso", {"contoso.example"}};  // adds a domain
  p.directory.users["nina@northwind.test"] = make_user("nina@northwind.test", kT3, {"fax"});
  p.directory.users["olga@northwind.test"] = make_user("olga@northwind.test", kT3, {});
  p.directory.users["alice@contoso.example"] = make_user("alice@contoso.example", kT1, {"fax"});
  auto tenant_lines = [](const std::string& id, const std::string& org) {
    return "X-MS-Exchange-CrossTenant-Id: " + id + "\r\nX-OriginatorOrg: " + org + "\r\n" +
           kInternal;
  };
  // A tenant only in the directory, through a connector that accepts them.
  EXPECT_EQ(show(m365_data(p.policy, "nina@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: nina@northwind.test\r\n")
                     .verdict),
            "250 accepted");
  EXPECT_EQ(show(m365_data(p.policy, "olga@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: olga@northwind.test\r\n")
                     .verdict),
            "550 5.7.1 Sender <olga@northwind.test> is not permitted to use the fax service");
  // Review F2: a configured tenant's domains are the config's; a domain
  // pushed for it is not merged in (the tenant's token asserted it).
  EXPECT_EQ(show(m365_data(p.policy, "alice@contoso.example",
                           tenant_lines(kT1, "contoso.example") + "From: alice@contoso.example\r\n")
                     .verdict),
            "550 5.7.1 Message refused: X-OriginatorOrg contoso.example does not belong to the "
            "tenant");
  EXPECT_EQ(show(m365_data(p.policy, "alice@contoso.example",
                           tenant_lines(kT1, "contoso.test") + "From: alice@contoso.example\r\n")
                     .verdict),
            "550 5.7.1 Sender <alice@contoso.example> does not belong to the sending tenant");
  // Without directory_tenants the connector names its tenants.
  Policy plain;
  plain.directory.tenants = p.directory.tenants;
  plain.directory.users = p.directory.users;
  EXPECT_EQ(show(m365_data(plain.policy, "nina@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: nina@northwind.test\r\n")
                     .verdict),
            "550 5.7.1 Message refused: tenant " + kT3 + " is not accepted by connector exo");
}

// Review F4: on a partner or internal connector a tenant known only from
// the directory counts only with directory_tenants = true; a [[tenant]]
// counts on any connector.
TEST(TrustPolicy, DirectoryTenantsNeedTheConnectorsOptIn) {
  const std::string kT3 = "0b0b0b0b-1111-4222-8333-444444444444";
  struct Case {
    bool directory_tenants;
    std::string sender;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {true, "nina@northwind.test", "250 accepted"},
      {false, "nina@northwind.test",
       "550 5.7.1 Sender <nina@northwind.test> is not permitted to use the fax service"},
      {true, "alice@contoso.test", "250 accepted"},
      {false, "alice@contoso.test", "250 accepted"},
  };
  for (const Case& k : cases) {
    TrustConfig c = config();
    InboundConnector partner;
    partner.name = "relay";
    partner.ip_ranges = {*IpRange::parse("198.51.100.0/24")};
    partner.services = {"fax"};
    partner.directory_tenants = k.directory_tenants;
    c.connectors.push_back(partner);
    Policy p(c);
    p.directory.tenants[kT3] = {kT3, "Northwind", {"northwind.test"}};
    p.directory.users["nina@northwind.test"] = make_user("nina@northwind.test", kT3, {"fax"});
    PeerFacts facts = peer(Cert::none, Ip::out_of_range);
    const InboundConnector* relay = p.policy.identify(facts);
    ASSERT_NE(relay, nullptr);
    Envelope envelope;
    auto at = k.sender.find('@');
    envelope.sender = Address{k.sender.substr(0, at), k.sender.substr(at + 1)};
    envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
    std::string content = "From: " + k.sender + "\r\nSubject: s\r\n\r\nbody\r\n";
    Verdict v = p.policy.on_data(relay, facts, envelope, content).verdict;
    EXPECT_EQ(show(v), k.expected) << k.sender << " directory_tenants=" << k.directory_tenants;
  }
}

// Review F3: a send-as delegation never makes another tenant's mailbox (a
// user of that tenant, or outside the sender tenant's domains) pass.
TEST(TrustPolicy, SendAsStaysInsideTheSendersTenant) {
  struct Case {
    std::string from;
    std::string expected;
    std::string reason;
  };
  const std::vector<Case> cases = {
      // carol@contoso.test is a directory user of fabrikam (kT2).
      {"carol@contoso.test",
       "550 5.7.1 From: <carol@contoso.test> is not permitted to use the fax service",
       "belongs to tenant " + kT2},
      // eve@fabrikam.test: another tenant's user in another tenant's domain.
      {"eve@fabrikam.test", "550 5.7.1 From: address does not belong to the sending tenant",
       "not a domain of tenant"},
      // A delegated mailbox of the own tenant still passes.
      {"accounts@contoso.test", "250 accepted", "send-as delegation"},
  };
  Policy p;
  add_directory_entries(p.directory);
  p.directory.users["alice@contoso.test"].send_as = {"accounts@contoso.test", "carol@contoso.test",
                                                     "eve@fabrikam.test"};
  for (const Case& c : cases) {
    Verdict v = m365_data(p.policy, "alice@contoso.test",
                          kTenantLines + kInternal + "From: " + c.from + "\r\n")
                    .verdict;
    EXPECT_EQ(show(v), c.expected) << c.from;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.from << ": " << v.reason;
  }
}

TEST(TrustPolicy, UnavailableDirectoryIsATemporaryFailure) {
  TrustConfig c = config();
  c.connectors[0].directory_tenants = true;
  Policy p(c);
  p.directory.unavailable = "the directory was never loaded from the store";
  const std::string temporary =
      "451 4.3.0 Temporary failure: the directory is unavailable, try again later";
  const std::string unknown_tenant = "0b0b0b0b-1111-4222-8333-444444444444";
  struct Case {
    std::string what;
    std::string tenant_lines;
    std::string sender;
  };
  const std::vector<Case> cases = {
      {"configured tenant", kTenantLines + kInternal, "alice@contoso.test"},
      {"an unknown sender", kTenantLines + kInternal, "mallory@contoso.test"},
      {"a tenant the connector may accept through the directory",
       "X-MS-Exchange-CrossTenant-Id: " + unknown_tenant + "\r\n" + kInternal,
       "alice@contoso.test"},
  };
  for (const Case& k : cases) {
    Verdict v =
        m365_data(p.policy, k.sender, k.tenant_lines + "From: " + k.sender + "\r\n").verdict;
    EXPECT_EQ(show(v), temporary) << k.what;
    EXPECT_EQ(v.reason, "directory unavailable: the directory was never loaded from the store")
        << k.what;
  }
  // Verified Microsoft 365 mail to a route without a service needs no
  // directory decision (X-OriginatorOrg is among the configured domains).
  {
    PeerFacts m365 = peer(Cert::right_name, Ip::in_range);
    const InboundConnector* exo = p.policy.identify(m365);
    Envelope plain;
    plain.sender = Address{"alice", "contoso.test"};
    plain.recipients.push_back({Address{"b", "example.test"}});
    std::string content = kTenantLines + kInternal + "From: alice@contoso.test\r\n\r\nbody\r\n";
    EXPECT_TRUE(p.policy.on_data(exo, m365, plain, content).verdict.accepted);
    std::string no_org = "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n" + kInternal +
                         "From: alice@contoso.test\r\n\r\nbody\r\n";
    EXPECT_EQ(show(p.policy.on_data(exo, m365, plain, no_org).verdict),
              "550 5.7.1 Message refused: X-OriginatorOrg (missing) does not belong to the tenant");
  }
  // Nor is mail from connections without a connector.
  PeerFacts facts = peer(Cert::none, Ip::in_range);
  Envelope envelope;
  envelope.sender = Address{"a", "example.net"};
  envelope.recipients.push_back({Address{"b", "example.test"}});
  std::string content = "From: a@example.net\r\nSubject: s\r\n\r\nbody\r\n";
  EXPECT_TRUE(p.policy.on_data(nullptr, facts, envelope, content).verdict.accepted);
}
