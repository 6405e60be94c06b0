// Issue 8.4: the [[rule]] configuration (server/config_rules.cpp): its
// errors name file, line and key.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "policy/transport_rules.hpp"
#include "server/config.hpp"
#include "tests/unit/transport_rules_fixture.hpp"

using namespace bh;
using namespace bh::rules_test;

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
