// Trust decisions on the header (issue 7 items 2-4): From:/Sender:
// parsing, the sender shown, the tenant markers, X-OriginatorOrg.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "policy/trust_policy.hpp"
#include "tests/unit/trust_policy_fixture.hpp"

using namespace bh;
using namespace bh::trust_test;

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
