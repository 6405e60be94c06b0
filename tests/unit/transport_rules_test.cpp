// Issue 8.4: transport rules (policy/transport_rules.hpp), header edits
// (mail/header_edit.hpp) and the [[rule]] configuration (server/config_rules.cpp).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "mail/header_edit.hpp"
#include "policy/transport_rules.hpp"
#include "server/config.hpp"

using namespace bh;

namespace {

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";

const std::string kBase = R"([[listener]]
address = "127.0.0.1:2525"
starttls = false

[[inbound_connector]]
name = "partner"
kind = "partner"
ip_ranges = ["192.0.2.0/24"]

[[route]]
domains = ["example.test", "*.example.org"]
connector = "files"

[[connector]]
name = "files"
type = "discard"

[[connector]]
name = "fax"
type = "discard"

[[connector]]
name = "sms"
type = "discard"
)";

// The line (1-based) of the first occurrence of `marker` in text.
std::size_t line_of(const std::string& text, std::string_view marker) {
  std::size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  return 1 + std::count(text.begin(), text.begin() + at, '\n');
}

std::shared_ptr<const TransportRules> rules(const std::string& toml) {
  auto config = parse_config(kBase + toml, "t.toml");
  EXPECT_TRUE(config) << config.error().message;
  return config ? config->rules : std::make_shared<const TransportRules>();
}

std::string errors(const std::string& toml) {
  auto config = parse_config(kBase + toml, "t.toml");
  EXPECT_FALSE(config);
  return config ? std::string() : config.error().message;
}

Address address(std::string_view text) {
  std::size_t at = text.rfind('@');
  return {std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
}

// A message for the rules: header fields "Name: value" and the envelope.
struct Message {
  std::string content = "Subject: hello\r\n\r\nbody\r\n";
  HeaderBlock header{""};
  RuleInput input;

  Message() {
    input.sender = address("alice@contoso.test");
    input.recipients = {address("bob@example.test")};
  }
  RuleInput& with_header(std::string fields) {
    content = fields + "\r\nbody\r\n";
    return input;
  }
  RuleOutcome run(const TransportRules& rules) {
    header = HeaderBlock(content);
    input.header = &header;
    return rules.evaluate(input);
  }
};

std::vector<std::string> matched(const std::string& toml, Message m) {
  return m.run(*rules(toml)).matched;
}

using Names = std::vector<std::string>;

}  // namespace

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

// --- apply_header_edits ------------------------------------------------

namespace {

struct Applied {
  std::string content;
  std::size_t header_size;
};

Applied apply(std::string content, std::size_t header_size, std::vector<HeaderEdit> edits) {
  Status status = apply_header_edits(content, header_size, edits);
  EXPECT_TRUE(status) << status.error().message;
  return {content, header_size};
}

HeaderEdit added(std::string name, std::string value) {
  return {HeaderEdit::Kind::add, std::move(name), std::move(value)};
}
HeaderEdit replaced(std::string name, std::string value) {
  return {HeaderEdit::Kind::set, std::move(name), std::move(value)};
}
HeaderEdit drop(std::string name) {
  return {HeaderEdit::Kind::remove, std::move(name), ""};
}

}  // namespace

TEST(HeaderEdit, AddGoesBeforeTheEmptyLineAndHeaderSizeStaysExact) {
  std::string message = "A: 1\r\nB: 2\r\n\r\nbody\r\n";
  Applied a = apply(message, 14, {added("X-New", "v"), added("X-Empty", "")});
  EXPECT_EQ(a.content, "A: 1\r\nB: 2\r\nX-New: v\r\nX-Empty:\r\n\r\nbody\r\n");
  EXPECT_EQ(a.content.substr(a.header_size), "body\r\n");
}

TEST(HeaderEdit, HeaderOnlyMessagesWithAndWithoutFinalCrlf) {
  Applied a = apply("A: 1\r\n", 6, {added("X", "y")});
  EXPECT_EQ(a.content, "A: 1\r\nX: y\r\n");
  EXPECT_EQ(a.header_size, a.content.size());
  Applied b = apply("A: 1", 4, {added("X", "y")});  // BDAT: the last line may end without CRLF
  EXPECT_EQ(b.content, "A: 1\r\nX: y\r\n");
  EXPECT_EQ(b.header_size, b.content.size());
  Applied c = apply("\r\nbody", 2, {added("X", "y")});  // no fields, only the empty line
  EXPECT_EQ(c.content, "X: y\r\n\r\nbody");
  EXPECT_EQ(c.content.substr(c.header_size), "body");
  Applied d = apply("", 0, {added("X", "y")});
  EXPECT_EQ(d.content, "X: y\r\n");
  EXPECT_EQ(d.header_size, 6u);
}

TEST(HeaderEdit, SetReplacesTheFirstInPlaceAndRemovesTheOthers) {
  std::string message = "A: 1\r\nx-tag: old\r\n folded\r\nB: 2\r\nX-Tag: again\r\n\r\nbody";
  std::size_t header = message.find("body");
  Applied a = apply(message, header, {replaced("X-Tag", "new")});
  EXPECT_EQ(a.content, "A: 1\r\nX-Tag: new\r\nB: 2\r\n\r\nbody");
  EXPECT_EQ(a.content.substr(a.header_size), "body");
  Applied b = apply(message, header, {replaced("X-Absent", "v")});
  EXPECT_EQ(b.content,
            "A: 1\r\nx-tag: old\r\n folded\r\nB: 2\r\nX-Tag: again\r\nX-Absent: v\r\n\r\nbody");
}

TEST(HeaderEdit, RemoveTakesEveryFieldOfTheNameAndOnlyFromTheHeader) {
  // The body (or the part of it still in memory) is never read as header.
  std::string message = "A: 1\r\nX-Drop: a\r\n b\r\nx-drop: c\r\n\r\nX-Drop: body line\r\n";
  std::size_t header = message.find("X-Drop: body");
  Applied a = apply(message, header, {drop("X-DROP")});
  EXPECT_EQ(a.content, "A: 1\r\n\r\nX-Drop: body line\r\n");
  EXPECT_EQ(a.header_size, 8u);
  Applied b = apply("A: 1\r\n\r\n", 8, {drop("A")});
  EXPECT_EQ(b.content, "\r\n");
  EXPECT_EQ(b.header_size, 2u);
}

TEST(HeaderEdit, EditsApplyInOrder) {
  Applied a =
      apply("A: 1\r\n\r\n", 8, {added("X", "1"), drop("x"), added("X", "2"), replaced("A", "3")});
  EXPECT_EQ(a.content, "A: 3\r\nX: 2\r\n\r\n");
}

TEST(HeaderEdit, BadEditsChangeNothing) {
  for (const HeaderEdit& bad :
       {added("X", "a\r\nBcc: evil@example.com"), added("X", "a\nb"),
        added("X", std::string("a\0b", 3)), added("X:Y", "v"), added("", "v"), replaced("X Y", "v"),
        drop("X\r\n"), added("X", std::string(kMaxHeaderLine - 2, 'v'))}) {
    std::string content = "A: 1\r\n\r\nbody";
    std::size_t header = 8;
    Status status = apply_header_edits(content, header, {added("Ok", "1"), bad});
    EXPECT_FALSE(status) << bad.name;
    EXPECT_EQ(content, "A: 1\r\n\r\nbody");
    EXPECT_EQ(header, 8u);
  }
  EXPECT_EQ(header_edit_problem("X", std::string(kMaxHeaderLine - 3, 'v')), "");
}

// --- configuration errors ----------------------------------------------

TEST(TransportRulesConfig, NoRulesIsEmpty) {
  EXPECT_TRUE(rules("")->empty());
  EXPECT_TRUE(bh::quickstart_config().rules->empty());
}

TEST(TransportRulesConfig, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string rule;    // the [[rule]] body after its name
    std::string marker;  // text on the line the error must name
    std::string error;   // after "t.toml:LINE: "
  };
  std::vector<Case> cases = {
      {"if_header_matches = { name = \"Subject\", regex = \"(?i)^fax(\" }\nstop = true", "regex",
       "rule[0].if_header_matches.regex: \"(?i)^fax(\" is not a valid regular expression: "
       "missing ): (?i)^fax("},
      {"route_to = \"hylafax\"", "route_to",
       "rule[0].route_to: connector \"hylafax\" is not defined"},
      {"route_to = \"partner\"", "route_to",  // an inbound connector delivers nothing
       "rule[0].route_to: connector \"partner\" is not defined"},
      {"reject = { code = 250 }", "reject",
       "rule[0].reject.code: must be a 4xx or 5xx reply code, e.g. 550"},
      {"reject = { code = 560 }", "reject",
       "rule[0].reject.code: must be a 4xx or 5xx reply code, e.g. 550"},
      {"reject = { code = 550, enhanced = \"4.7.1\" }", "reject",
       "rule[0].reject.enhanced: \"4.7.1\" does not have the class of code 550 (5.x.y)"},
      {"reject = { code = 450, enhanced = \"4.7\" }", "reject",
       "rule[0].reject.enhanced: \"4.7\" is not an enhanced status code (4.x.y or 5.x.y, RFC "
       "3463)"},
      {"reject = { code = 550, text = \"a\\r\\nb\" }", "reject",
       "rule[0].reject.text: must be 1 to 400 characters of printable ASCII"},
      {"reject = { enhanced = \"5.7.1\" }", "reject",
       "rule[0].reject.code: required key is missing"},
      {"reject = { code = 550 }\nroute_to = \"fax\"", "reject",
       "rule[0].reject: a rule that rejects cannot also route or edit headers (reject ends the "
       "evaluation)"},
      {"add_header = { name = \"X Bad\", value = \"v\" }", "add_header",
       "rule[0].add_header.name: \"X Bad\" is not a header field name (printable ASCII except "
       "':')"},
      {"set_header = { name = \"X-A\", value = \"a\\nBcc: x@y\" }", "set_header",
       "rule[0].set_header.value: must not contain CR, LF or NUL"},
      {"add_header = { name = \"X-A\", value = \"nul\\u0000\" }", "add_header",
       "rule[0].add_header.value: must not contain CR, LF or NUL"},
      {"add_header = [{ name = \"X-A\", value = \"ok\" },\n  { name = \"X-B\", value = "
       "\"caf\u00e9\" }]",
       "X-B",
       "rule[0].add_header[1].value: must be printable ASCII (write other text as an RFC 2047 "
       "encoded word)"},
      {"add_header = { name = \"X-A\", value = \"" + std::string(995, 'v') + "\" }", "add_header",
       "rule[0].add_header.value: \"X-A: ...\" would be longer than 998 characters"},
      {"add_header = { name = \"X-A\" }", "add_header",
       "rule[0].add_header.value: required key is missing"},
      {"add_header = { name = \"X-A\", value = \"v\", when = 1 }", "add_header",
       "rule[0].add_header.when: unknown key"},
      {"remove_header = [\"ok\", \"no:colon\"]", "remove_header",
       "rule[0].remove_header: \"no:colon\" is not a header field name (printable ASCII except "
       "':')"},
      {"if_header_exists = \"X-A\"", "[[rule]]",
       "rule[0]: has no action (route_to, add_header, set_header, remove_header, reject or stop)"},
      {"stop = false", "[[rule]]",
       "rule[0]: has no action (route_to, add_header, set_header, remove_header, reject or stop)"},
      {"if_sender = [\"not an address\"]\nstop = true", "if_sender",
       "rule[0].if_sender: \"not an address\" is not an address (user@domain, or \"<>\")"},
      {"if_recipient_domain = [\"*.ex*.com\"]\nstop = true", "if_recipient",
       "rule[0].if_recipient_domain: \"*.ex*.com\" is not a domain (\"example.com\", "
       "\"*.example.com\")"},
      {"if_recipient = []\nstop = true", "if_recipient",
       "rule[0].if_recipient: must be a string or a non-empty list of strings"},
      {"if_inbound_connector = \"exo\"\nstop = true", "if_inbound",
       "rule[0].if_inbound_connector: inbound_connector \"exo\" is not defined"},
      {"if_tenant = \"contoso\"\nstop = true", "if_tenant",
       "rule[0].if_tenant: \"contoso\" is not a tenant id (GUID)"},
      {"except_client_ip = [\"10.0.0.0/33\"]\nstop = true", "except_client_ip",
       "rule[0].except_client_ip: \"10.0.0.0/33\" is not an IP address or CIDR range"},
      {"if_size_over = \"10 parsecs\"\nstop = true", "if_size",
       "rule[0].if_size_over: must be a size in bytes: an integer, or a string such as \"10MB\""},
      {"if_stamp_valid = 1\nstop = true", "if_stamp",
       "rule[0].if_stamp_valid: must be true or false"},
      {"if_header_equals = { name = \"X-A\" }\nstop = true", "if_header",
       "rule[0].if_header_equals.value: required key is missing"},
      {"if_header_matches = \"Subject\"\nstop = true", "if_header",
       "rule[0].if_header_matches: must be a table: { name = \"Subject\", regex = \"(?i)^fax\" }"},
      {"if_sendr = \"a@b.c\"\nstop = true", "if_sendr", "rule[0].if_sendr: unknown key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    std::string toml = "\n[[rule]]\nname = \"r\"\n" + c.rule + "\n";
    std::string text = kBase + toml;
    std::size_t from = kBase.size();
    std::size_t at = text.find(c.marker, from);
    ASSERT_NE(at, std::string::npos);
    std::size_t expected = 1 + std::count(text.begin(), text.begin() + at, '\n');
    EXPECT_EQ(errors(toml), fmt::format("t.toml:{}: {}", expected, c.error));
  }
}

TEST(TransportRulesConfig, DuplicateNamesAndMissingNames) {
  std::string toml =
      "[[rule]]\nname = \"Paging\"\nstop = true\n[[rule]]\nname = \"paging\"\nstop = true\n"
      "[[rule]]\nstop = true\n";
  std::string text = kBase + toml;
  std::size_t first = line_of(text, "name = \"Paging\"");
  std::size_t second = line_of(text, "name = \"paging\"");
  std::size_t third = second + 2;
  EXPECT_EQ(
      errors(toml),
      fmt::format("t.toml:{}: rule[1].name: \"paging\" is also the name of rule[0] (line {}); "
                  "names must be unique\n"
                  "t.toml:{}: rule[2].name: required key is missing",
                  second, first, third));
}

TEST(TransportRulesConfig, RuleTablesMustBeAnArrayOfTables) {
  auto config = parse_config("rule = \"x\"\n" + kBase, "t.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, "t.toml:1: rule: must be written as [[rule]] tables");
}
