// Table tests of the RFC 5322 address-list parser (src/mail/mailbox_list.hpp):
// what is accepted with which addresses, what is refused and why.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mail/header_block.hpp"
#include "mail/mailbox_list.hpp"

using namespace bh;

namespace {

struct Case {
  std::string value;
  std::vector<std::string> addresses;  // accepted: the addresses, in order
  std::string error;                   // refused: a phrase the reason must contain
};

std::string show(const AddressList& list) {
  if (!list.ok()) return "error: " + list.error;
  std::string out;
  for (const auto& m : list.mailboxes) out += (out.empty() ? "" : ", ") + m.address();
  return out;
}

const std::vector<Case> kCases = {
    // accepted
    {"alice@contoso.test", {"alice@contoso.test"}, ""},
    {" Alice Example <alice@contoso.test>", {"alice@contoso.test"}, ""},
    {"<alice@contoso.test>", {"alice@contoso.test"}, ""},
    {"mallory@evil.example (<alice@contoso.com>)", {"mallory@evil.example"}, ""},  // the attack
    {"\"alice@contoso.com\" <mallory@evil.example>", {"mallory@evil.example"}, ""},
    {"=?utf-8?q?alice@contoso.com?= <m@evil.example>", {"m@evil.example"}, ""},
    {"=?UTF-8?B?QWxpY2U=?= <alice@contoso.test>", {"alice@contoso.test"}, ""},
    {"\"Smith, John <john@x.test>\" <j@y.test>", {"j@y.test"}, ""},
    {"\"say \\\"hi\\\" <a@b.test>\" <c@d.test>", {"c@d.test"}, ""},
    {"a@x.test (one (two (three)) \\) \\( still comment)", {"a@x.test"}, ""},
    {"(lead) a (in) @ (mid) x (d) . (e) test (trail)", {"a@x.test"}, ""},
    {"alice @ contoso . test", {"alice@contoso.test"}, ""},
    {"\"a\".b@x.test", {"a.b@x.test"}, ""},
    {"\"a b\"@x.test", {"\"a b\"@x.test"}, ""},
    {"\"a\\\"b\"@x.test", {"\"a\\\"b\"@x.test"}, ""},
    {"\"plain\"@x.test", {"plain@x.test"}, ""},
    {"<@relay1.test,@relay2.test:alice@contoso.test>", {"alice@contoso.test"}, ""},
    {"a@[192.0.2.1]", {"a@[192.0.2.1]"}, ""},
    {"Lit <a@[IPv6:2001:db8::1]>", {"a@[IPv6:2001:db8::1]"}, ""},
    {"a@x.test, B <b@y.test>", {"a@x.test", "b@y.test"}, ""},
    {"undisclosed: a@b.test, c@d.test;", {"a@b.test", "c@d.test"}, ""},
    {"team: a@b.test;, c@d.test", {"a@b.test", "c@d.test"}, ""},
    {"John Q. Public <jqp@x.test>", {"jqp@x.test"}, ""},
    {"Alice\r\n <alice@contoso.test>", {"alice@contoso.test"}, ""},
    {"J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc"
     "cher.test>",
     {"j\xc3\xb6rg@b\xc3\xbc"
      "cher.test"},
     ""},
    {"O365ConnectorValidation@contoso.onmicrosoft.com",
     {"O365ConnectorValidation@contoso.onmicrosoft.com"},
     ""},
    // refused
    {"alice@contoso.com <mallory@evil.example>", {}, "two addresses in one mailbox"},
    {"Alice <alice@contoso.test> <m@evil.test>", {}, "two addresses in one mailbox"},
    {"alice@contoso.test (x) mallory@evil.test", {}, "text after the address"},
    {"<alice@contoso.test> mallory", {}, "text after the address"},
    {"<a@b.test c@d.test>", {}, "text after the address inside '<...>'"},
    {"<a@b.test <c@d.test>>", {}, "'<' inside '<...>'"},
    {"a@b@c.test", {}, "more than one '@'"},
    {"\"alice@contoso.test", {}, "quoted string not closed"},
    {"a@b.test (comment", {}, "comment not closed"},
    {"a@b.test (one (two)", {}, "comment not closed"},
    {"a@b.test )", {}, "unbalanced ')'"},
    {"<a@b.test", {}, "unbalanced '<'"},
    {"a@b.test>", {}, "unbalanced '>'"},
    {"John Smith john@x.test", {}, "space between words of the local part"},
    {"=?utf-8?q?alice@contoso.com?=", {}, "without an address"},
    {"=?utf-8?q?x?=@evil.example", {}, "encoded word in an address"},
    {"Alice, Bob <b@x.test>", {}, "without an address"},
    {"alice", {}, "without an address"},
    {"", {}, "empty value"},
    {"  (only a comment) ", {}, "empty value"},
    {"<>", {}, "empty address"},
    {"a@x.test,", {}, "',' at the end"},
    {"a@x.test,,b@y.test", {}, "empty mailbox"},
    {"a..b@x.test", {}, "'..' in local part"},
    {".a@x.test", {}, "local part starts with '.'"},
    {"a.@x.test", {}, "local part ends with '.'"},
    {"a@x..test", {}, "empty label"},
    {"a@x.test.", {}, "empty label"},
    {"a@", {}, "no domain"},
    {"a@\"x\".test", {}, "quoted string in a domain"},
    {"a@x!.test", {}, "not allowed in a host name"},
    {"a@[1.2.3.4", {}, "domain literal not closed"},
    {"a@[1.2\\.3]", {}, "quoted-pair in a domain literal"},
    {"g: a@b.test", {}, "group not ended by ';'"},
    {"g: h: a@b.test;;", {}, "group inside a group"},
    {": a@b.test;", {}, "group without a name"},
    {"a@b.test;", {}, "';' outside a group"},
    {std::string("a@b.test\0", 9), {}, "NUL byte"},
    {"Al\001ce <a@b.test>", {}, "control character"},  // octal: \001, then "ce"
    {"a@b.test\r\nc@d.test", {}, "CR or LF that is not folding"},
    {"a@b.test\n", {}, "CR or LF that is not folding"},
    {"\xff <a@b.test>", {}, "invalid UTF-8"},
    {"\"\xc3\" <a@b.test>", {}, "invalid UTF-8"},
    {"a\\b@x.test", {}, "backslash outside"},
    {"<@relay.test alice@contoso.test>", {}, "route not ended by ':'"},
    {"<alice>", {}, "address without '@'"},
    {"\"\"@x.test", {}, "empty local part"},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@x.test",
     {},
     "longer than 64"},
};

}  // namespace

TEST(MailboxList, Table) {
  int accepted = 0, refused = 0;
  for (const Case& c : kCases) {
    AddressList list = parse_address_list(c.value);
    if (c.error.empty()) {
      ++accepted;
      ASSERT_TRUE(list.ok()) << "value [" << c.value << "]: " << list.error;
      std::vector<std::string> got;
      for (const auto& m : list.mailboxes) got.push_back(m.address());
      EXPECT_EQ(got, c.addresses) << "value [" << c.value << "]";
    } else {
      ++refused;
      EXPECT_FALSE(list.ok()) << "value [" << c.value << "] accepted as " << show(list);
      EXPECT_NE(list.error.find(c.error), std::string::npos)
          << "value [" << c.value << "]: reason '" << list.error << "' lacks '" << c.error << "'";
      EXPECT_TRUE(list.mailboxes.empty());
    }
  }
  EXPECT_GE(accepted + refused, 30);
  EXPECT_GE(refused, 15);
}

TEST(MailboxList, DisplayNamesAndGroups) {
  auto one = parse_address_list("\"alice@contoso.com\" <mallory@evil.example>");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one.mailboxes.at(0).display_name, "alice@contoso.com");
  EXPECT_EQ(one.mailboxes.at(0).local, "mallory");
  EXPECT_EQ(one.mailboxes.at(0).domain, "evil.example");

  auto ew = parse_address_list("=?utf-8?q?alice@contoso.com?= <m@evil.example>");
  ASSERT_TRUE(ew.ok());
  EXPECT_EQ(ew.mailboxes.at(0).display_name, "=?utf-8?q?alice@contoso.com?=");  // kept as written

  auto dotted = parse_address_list("John Q. (middle) Public <jqp@x.test>");
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted.mailboxes.at(0).display_name, "John Q. Public");

  auto group = parse_address_list("team: a@b.test, C <c@d.test>;, e@f.test");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group.groups, 1u);
  ASSERT_EQ(group.mailboxes.size(), 3u);
  EXPECT_EQ(group.mailboxes[0].group, "team");
  EXPECT_EQ(group.mailboxes[1].display_name, "C");
  EXPECT_EQ(group.mailboxes[2].group, "");

  auto empty = parse_address_list("undisclosed-recipients:;");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.groups, 1u);
  EXPECT_TRUE(empty.mailboxes.empty());
}

// A canonical address parses back to itself.
TEST(MailboxList, CanonicalFormRoundTrips) {
  for (const Case& c : kCases) {
    AddressList list = parse_address_list(c.value);
    if (!list.ok()) continue;
    for (const Mailbox& m : list.mailboxes) {
      AddressList again = parse_address_list(m.address());
      ASSERT_TRUE(again.ok()) << m.address() << ": " << again.error;
      ASSERT_EQ(again.mailboxes.size(), 1u) << m.address();
      EXPECT_EQ(again.mailboxes[0].local, m.local);
      EXPECT_EQ(again.mailboxes[0].domain, m.domain);
    }
  }
}

TEST(MailboxList, Bounded) {
  std::string deep =
      "a@b.test " + std::string(kMaxCommentDepth + 1, '(') + std::string(kMaxCommentDepth + 1, ')');
  EXPECT_NE(parse_address_list(deep).error.find("nested too deeply"), std::string::npos);
  std::string ok_depth =
      "a@b.test " + std::string(kMaxCommentDepth, '(') + std::string(kMaxCommentDepth, ')');
  EXPECT_TRUE(parse_address_list(ok_depth).ok());
  EXPECT_EQ(parse_address_list(std::string(kMaxAddressListInput + 1, 'a')).error,
            "header value too long");
  // Many unterminated encoded-word starts: refused (no address), and each
  // search for the end of a word stays within 75 characters.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "=?utf-8?q?aaaa ";
  EXPECT_FALSE(parse_address_list(many).ok());
  EXPECT_TRUE(parse_address_list(many + "<a@b.test>").ok());
}

TEST(MailboxList, ReasonsNeverEchoTheInput) {
  for (const char* value : {"\"secret-token", "secret-token@x.test <secret2@y.test>",
                            "a@b.test secret-token", "(secret-token"}) {
    AddressList list = parse_address_list(value);
    ASSERT_FALSE(list.ok()) << value;
    EXPECT_EQ(list.error.find("secret"), std::string::npos) << list.error;
  }
}

TEST(MailboxList, AddressInHeaderUsesTheParser) {
  EXPECT_EQ(address_in_header("mallory@evil.example (<alice@contoso.com>)"),
            "mallory@evil.example");
  EXPECT_EQ(address_in_header("\"x <alice@contoso.com>\" <m@evil.example>"), "m@evil.example");
  EXPECT_EQ(address_in_header("alice@contoso.com <mallory@evil.example>"), "");
  EXPECT_EQ(address_in_header("a@x.test, b@y.test"), "");
  EXPECT_EQ(address_in_header("g: a@x.test;"), "");
  EXPECT_EQ(address_in_header("<a@x.test"), "");
}
