// Issue 8.4: transport rules (policy/transport_rules.hpp): conditions,
// routes, reject, stop and order, header actions. The [[rule]]
// configuration is transport_rules_config_test.cpp, the header edits
// header_edit_test.cpp.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "mail/header_edit.hpp"
#include "policy/transport_rules.hpp"
#include "server/config.hpp"
#include "tests/unit/transport_rules_fixture.hpp"

using namespace bh;
using namespace bh::rules_test;

// --- conditions --------------------------------------------------------

TEST(TransportRules, RuleWithoutConditionsAppliesToEveryMessage) {
  EXPECT_EQ(matched("[[rule]]\nname = \"all\"\nstop = true\n", Message()), Names{"all"});
}

TEST(TransportRules, EveryConditionAndItsException) {
  struct Case {
    std::string condition;                 // TOML after "if_" / "except_"
    std::function<void(Message&)> holds;   // makes the message meet it
    std::function<void(Message&)> misses;  // makes it not
  };
  std::vector<Case> cases = {
      {"sender = [\"Alice@Contoso.TEST\"]", [](Message&) {},
       [](Message& m) { m.input.sender = address("eve@contoso.test"); }},
      {"sender = [\"<>\"]", [](Message& m) { m.input.sender = Address{}; }, [](Message&) {}},
      {"sender_domain = \"contoso.test\"", [](Message&) {},
       [](Message& m) { m.input.sender = Address{}; }},
      {"sender_domain = [\"*.contoso.test\"]",
       [](Message& m) { m.input.sender = address("a@eu.contoso.test"); }, [](Message&) {}},
      {"recipient = [\"BOB@example.test\"]", [](Message&) {},
       [](Message& m) { m.input.recipients = {address("carol@example.test")}; }},
      {"recipient_domain = [\"*\"]", [](Message&) {},
       [](Message& m) { m.input.recipients.clear(); }},
      {"inbound_connector = [\"partner\"]",
       [](Message& m) { m.input.inbound_connector = "partner"; }, [](Message&) {}},
      {"tenant = [\"11111111-2222-3333-4444-55555555555A\"]",
       [](Message& m) { m.input.tenant = "11111111-2222-3333-4444-55555555555a"; },
       [](Message& m) { m.input.tenant = kTenant; }},
      {"client_ip = [\"192.0.2.0/24\", \"2001:db8::/32\"]",
       [](Message& m) { m.input.client_ip = IpAddress::parse("2001:db8::1"); },
       [](Message& m) { m.input.client_ip = IpAddress::parse("198.51.100.1"); }},
      {"client_ip = \"192.0.2.7\"",
       [](Message& m) { m.input.client_ip = IpAddress::parse("192.0.2.7"); },
       [](Message& m) { m.input.client_ip.reset(); }},
      {"size_over = \"1KB\"", [](Message& m) { m.input.size = 1025; },
       [](Message& m) { m.input.size = 1024; }},
      {"size_under = 1000", [](Message& m) { m.input.size = 999; },
       [](Message& m) { m.input.size = 1000; }},
      {"stamp_valid = true", [](Message& m) { m.input.stamp_valid = true; }, [](Message&) {}},
      {"stamp_valid = false", [](Message&) {}, [](Message& m) { m.input.stamp_valid = true; }},
      {"header_exists = [\"x-flag\", \"X-Other\"]",
       [](Message& m) { m.with_header("Subject: a\r\nX-Flag: 1\r\n"); }, [](Message&) {}},
      {"header_equals = { name = \"subject\", value = [\"FAX\", \"fax to 1\"] }",
       [](Message& m) { m.with_header("Subject:   Fax\r\n to 1\r\n"); },  // unfolded, any case
       [](Message& m) { m.with_header("Subject: fax to 12\r\n"); }},
      {"header_matches = { name = \"Subject\", regex = \"(?i)^fax\" }",
       [](Message& m) { m.with_header("Subject: a\r\nsubject: FAX 123\r\n"); },  // any field
       [](Message& m) { m.with_header("Subject: no fax\r\nX-Subject: fax\r\n"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.condition);
    std::string rule = fmt::format("[[rule]]\nname = \"r\"\nif_{}\nstop = true\n", c.condition);
    std::string except =
        fmt::format("[[rule]]\nname = \"r\"\nexcept_{}\nstop = true\n", c.condition);
    Message yes, no;
    c.holds(yes);
    c.misses(no);
    EXPECT_EQ(matched(rule, yes), Names{"r"});
    EXPECT_EQ(matched(rule, no), Names{});
    EXPECT_EQ(matched(except, yes), Names{});
    // An exception on recipients removes them; without recipients nothing is left.
    bool no_recipients = no.input.recipients.empty();
    EXPECT_EQ(matched(except, no), no_recipients ? Names{} : Names{"r"});
  }
}

TEST(TransportRules, AllConditionsMustHoldAndAnyExceptionPreventsTheRule) {
  auto r = rules(R"([[rule]]
name = "both"
if_sender_domain = ["contoso.test"]
if_size_over = 100
except_stamp_valid = true
except_header_exists = "X-Skip"
stop = true
)");
  Message m;
  m.input.size = 200;
  EXPECT_EQ(m.run(*r).matched, Names{"both"});
  m.input.size = 50;
  EXPECT_EQ(m.run(*r).matched, Names{});
  m.input.size = 200;
  m.input.stamp_valid = true;  // "unless processed"
  EXPECT_EQ(m.run(*r).matched, Names{});
  m.input.stamp_valid = false;
  m.with_header("X-Skip: yes\r\n");
  EXPECT_EQ(m.run(*r).matched, Names{});
}

TEST(TransportRules, DisabledRulesAreSkipped) {
  EXPECT_EQ(matched("[[rule]]\nname = \"off\"\nenabled = false\nstop = true\n", Message()),
            Names{});
}

// --- routes ------------------------------------------------------------

TEST(TransportRules, RouteAppliesOnlyToTheRecipientsItsConditionMatched) {
  auto r = rules(R"([[rule]]
name = "fax numbers"
if_recipient_domain = ["fax.example.org"]
except_recipient = ["blocked@fax.example.org"]
route_to = "fax"
)");
  Message m;
  m.input.recipients = {address("a@example.test"), address("+4930123@fax.example.org"),
                        address("blocked@fax.example.org")};
  RuleOutcome out = m.run(*r);
  EXPECT_EQ(out.matched, Names{"fax numbers"});
  ASSERT_EQ(out.routes.size(), 3u);
  EXPECT_EQ(out.routes[0], std::nullopt);
  EXPECT_EQ(out.routes[1], "fax");
  EXPECT_EQ(out.routes[2], std::nullopt);
  EXPECT_EQ(out.routed_by[1], "fax numbers");
  EXPECT_EQ(out.routed_by[0], "");
}

TEST(TransportRules, RouteWithoutRecipientConditionAppliesToAll) {
  auto r =
      rules("[[rule]]\nname = \"all\"\nif_sender = \"alice@contoso.test\"\nroute_to = \"sms\"\n");
  Message m;
  m.input.recipients = {address("a@example.test"), address("b@x.example.org")};
  RuleOutcome out = m.run(*r);
  EXPECT_EQ(out.routes, (std::vector<std::optional<std::string>>{"sms", "sms"}));
}

TEST(TransportRules, LaterRoutesOverrideEarlierOnesUnlessStopped) {
  std::string two = R"([[rule]]
name = "first"
route_to = "fax"
STOP
[[rule]]
name = "second"
if_recipient = ["b@example.test"]
route_to = "sms"
)";
  Message m;
  m.input.recipients = {address("a@example.test"), address("b@example.test")};
  std::string without_stop = two;
  without_stop.replace(without_stop.find("STOP"), 4, "");
  RuleOutcome out = m.run(*rules(without_stop));
  EXPECT_EQ(out.matched, (Names{"first", "second"}));
  EXPECT_EQ(out.routes, (std::vector<std::optional<std::string>>{"fax", "sms"}));
  EXPECT_EQ(out.routed_by[1], "second");
  std::string with_stop = two;
  with_stop.replace(with_stop.find("STOP"), 4, "stop = true");
  out = m.run(*rules(with_stop));
  EXPECT_EQ(out.matched, Names{"first"});
  EXPECT_EQ(out.routes, (std::vector<std::optional<std::string>>{"fax", "fax"}));
}

// --- reject, stop, order -------------------------------------------------

TEST(TransportRules, RejectEndsTheEvaluation) {
  auto r = rules(R"([[rule]]
name = "tag"
add_header = { name = "X-Tag", value = "1" }

[[rule]]
name = "no big fax"
if_size_over = "10MB"
reject = { code = 552, enhanced = "5.3.4", text = "Fax too large" }

[[rule]]
name = "never"
route_to = "fax"
)");
  Message m;
  m.input.size = 11 << 20;
  RuleOutcome out = m.run(*r);
  EXPECT_EQ(out.matched, (Names{"tag", "no big fax"}));
  ASSERT_TRUE(out.reject);
  EXPECT_EQ(out.reject->code, 552);
  EXPECT_EQ(out.reject->enhanced, "5.3.4");
  EXPECT_EQ(out.reject->text, "Fax too large");
  EXPECT_EQ(out.rejected_by, "no big fax");
  EXPECT_EQ(out.routes[0], std::nullopt);
  m.input.size = 100;
  out = m.run(*r);
  EXPECT_FALSE(out.reject);
  EXPECT_EQ(out.matched, (Names{"tag", "never"}));
}

TEST(TransportRules, RejectDefaults) {
  RuleOutcome out = Message().run(*rules("[[rule]]\nname = \"r\"\nreject = { code = 450 }\n"));
  ASSERT_TRUE(out.reject);
  EXPECT_EQ(out.reject->enhanced, "4.7.1");
  EXPECT_EQ(out.reject->text, "Delivery not authorized, message refused");
}

TEST(TransportRules, RulesRunInFileOrderAndStopEndsThem) {
  auto r = rules(R"([[rule]]
name = "c"
add_header = { name = "X-Order", value = "c" }
[[rule]]
name = "a"
if_stamp_valid = true
stop = true
[[rule]]
name = "b"
add_header = { name = "X-Order", value = "b" }
)");
  Message m;
  EXPECT_EQ(m.run(*r).matched, (Names{"c", "b"}));
  m.input.stamp_valid = true;
  EXPECT_EQ(m.run(*r).matched, (Names{"c", "a"}));
}

// --- header actions ------------------------------------------------------

TEST(TransportRules, HeaderEditsInRuleOrderRemoveSetAddWithinARule) {
  auto r = rules(R"([[rule]]
name = "one"
add_header = [{ name = "X-A", value = "1" }, { name = "X-B", value = "2" }]
set_header = { name = "X-C", value = "3" }
remove_header = "X-D"
[[rule]]
name = "two"
remove_header = ["X-A"]
)");
  RuleOutcome out = Message().run(*r);
  using K = HeaderEdit::Kind;
  ASSERT_EQ(out.header_edits.size(), 5u);
  EXPECT_EQ(out.header_edits[0].kind, K::remove);
  EXPECT_EQ(out.header_edits[0].name, "X-D");
  EXPECT_EQ(out.header_edits[1].kind, K::set);
  EXPECT_EQ(out.header_edits[1].value, "3");
  EXPECT_EQ(out.header_edits[2].name, "X-A");
  EXPECT_EQ(out.header_edits[3].name, "X-B");
  EXPECT_EQ(out.header_edits[4].kind, K::remove);
  EXPECT_EQ(out.header_edits[4].name, "X-A");
}

TEST(TransportRules, LaterRulesSeeTheHeadersEarlierRulesEdited) {
  auto r = rules(R"([[rule]]
name = "mark"
if_sender_domain = "contoso.test"
set_header = { name = "X-Class", value = "fax" }
remove_header = "Subject"
[[rule]]
name = "route marked"
if_header_equals = { name = "x-class", value = "FAX" }
except_header_exists = ["Subject"]
route_to = "fax"
)");
  Message m;
  m.with_header("Subject: x\r\nX-Class: mail\r\n");
  RuleOutcome out = m.run(*r);
  EXPECT_EQ(out.matched, (Names{"mark", "route marked"}));
  EXPECT_EQ(out.routes[0], "fax");
}
