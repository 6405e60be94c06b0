#include <gtest/gtest.h>

#include <random>
#include <variant>

#include "fuzz/envelope_roundtrip.hpp"

#include "smtp/proto/client_commands.hpp"
#include "smtp/proto/reply_parser.hpp"

using namespace bh;
using namespace bh::smtp;

TEST(ReplyParser, MultiLineWithEnhancedCodes) {
  ReplyParser parser;
  EXPECT_EQ(parser.add_line("250-mx.example"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("250-PIPELINING"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("250 SIZE 1000"), ReplyParser::Status::complete);
  ServerReply reply = parser.take();
  EXPECT_EQ(reply.code, 250);
  ASSERT_EQ(reply.lines.size(), 3u);
  EXPECT_EQ(reply.lines[2], "SIZE 1000");

  EXPECT_EQ(parser.add_line("550 5.1.1 <x@y>: unknown user"), ReplyParser::Status::complete);
  reply = parser.take();
  EXPECT_EQ(reply.enhanced, "5.1.1");
  EXPECT_EQ(reply.text(), "<x@y>: unknown user");
  EXPECT_TRUE(reply.permanent());
}

TEST(ReplyParser, RefusesGarbage) {
  ReplyParser parser;
  EXPECT_EQ(parser.add_line("hello"), ReplyParser::Status::malformed);
  ReplyParser mixed;
  mixed.add_line("250-a");
  EXPECT_EQ(mixed.add_line("251 b"), ReplyParser::Status::malformed);
  ReplyParser bad_separator;
  EXPECT_EQ(bad_separator.add_line("250xabc"), ReplyParser::Status::malformed);
}

TEST(ReplyParser, EnhancedCodeMustMatchClass) {
  ReplyParser parser;
  parser.add_line("451 5.1.1 odd");
  EXPECT_EQ(parser.take().enhanced, "");  // a 4xx reply cannot carry a 5.x.x code
}

TEST(ClientCommands, ParsesEhlo) {
  Capabilities caps = parse_ehlo({"mx.example", "PIPELINING", "SIZE 35882577", "8BITMIME",
                                  "STARTTLS", "chunking", "DSN", "SMTPUTF8"});
  EXPECT_TRUE(caps.pipelining && caps.starttls && caps.eight_bit_mime && caps.chunking &&
              caps.dsn && caps.smtputf8);
  EXPECT_EQ(*caps.size, 35882577u);
}

TEST(ClientCommands, MailAndRcptCarryDsnOnlyWhenOffered) {
  Envelope e;
  e.sender = Address{"a", "example.net"};
  e.ret = DsnReturn::headers;
  e.envid = "id 1";
  e.body = BodyType::eight_bit_mime;
  Recipient r{Address{"b", "example.test"}, notify_success | notify_failure,
              "rfc822;b+x@example.test"};
  Capabilities full = parse_ehlo({"x", "SIZE", "8BITMIME", "DSN"});
  EXPECT_EQ(mail_from_command(e, 100, full, false),
            "MAIL FROM:<a@example.net> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=id+201\r\n");
  EXPECT_EQ(rcpt_to_command(r, full),
            "RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.test\r\n");
  Capabilities plain;  // HELO peer
  EXPECT_EQ(mail_from_command(e, 100, plain, false), "MAIL FROM:<a@example.net>\r\n");
  EXPECT_EQ(rcpt_to_command(r, plain), "RCPT TO:<b@example.test>\r\n");
}

TEST(ClientCommands, DotStuffing) {
  EXPECT_EQ(dot_stuff(".a\r\nb\r\n..c\r\n"), "..a\r\nb\r\n...c\r\n.\r\n");
  EXPECT_EQ(dot_stuff("no final newline"), "no final newline\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
}

TEST(ClientCommands, RefusesWhatThePeerCannotTake) {
  Envelope e;
  e.sender = Address{"a", "example.net"};
  e.recipients.push_back({Address{"b", "example.test"}});
  Capabilities seven_bit = parse_ehlo({"x", "SIZE 10"});
  EXPECT_EQ(refuse_for_peer(e, "Subject: x\r\n\r\n\xc3\xa4\r\n", seven_bit)->status, "5.6.3");
  EXPECT_EQ(refuse_for_peer(e, std::string(20, 'x'), seven_bit)->status, "5.3.4");
  EXPECT_FALSE(refuse_for_peer(e, "short", seven_bit));
  e.smtputf8 = true;
  e.recipients[0].address.local = "m\xc3\xbc";
  Capabilities eight = parse_ehlo({"x", "8BITMIME"});
  EXPECT_EQ(refuse_for_peer(e, "x", eight)->status, "5.6.7");
}

// Issue 7.1: the ORCPT addr-type is an atom and decoded values are printable;
// what the server accepts cannot become a second command on the next hop.
TEST(ClientCommands, DsnParametersCannotCarryCommands) {
  auto refused = [](std::string_view argument) {
    return std::holds_alternative<ParseFailure>(parse_rcpt_to(argument, true, false));
  };
  EXPECT_TRUE(
      refused("TO:<v@inj.test> NOTIFY=SUCCESS ORCPT=x+0D+0ARSET+0D+0AMAIL+20FROM:"
              "<ceo@tenant.test>+0D+0ARCPT+20TO:<v@inj.test>;y@inj.test"));
  EXPECT_TRUE(refused("TO:<v@inj.test> ORCPT=rfc822;y+0D+0ARSET@inj.test"));
  EXPECT_TRUE(refused("TO:<v@inj.test> ORCPT=rfc822;y+00@inj.test"));
  EXPECT_TRUE(refused("TO:<v@inj.test> ORCPT=rfc(822);y@inj.test"));
  EXPECT_TRUE(refused("TO:<v@inj.test> ORCPT=;y@inj.test"));
  EXPECT_TRUE(refused("TO:<v@inj.test> ORCPT=rfc822;"));
  EXPECT_FALSE(refused("TO:<v@inj.test> ORCPT=rfc822;v+2Bx@inj.test"));
  auto mail_refused = [](std::string_view argument) {
    return std::holds_alternative<ParseFailure>(parse_mail_from(argument, true));
  };
  EXPECT_TRUE(mail_refused("FROM:<a@b.test> ENVID=x+0D+0AQUIT"));
  EXPECT_TRUE(mail_refused("FROM:<a@b.test> ENVID=x+7F"));
  EXPECT_FALSE(mail_refused("FROM:<a@b.test> ENVID=id+201"));
  auto unknown = std::get<ParseFailure>(parse_mail_from("FROM:<a@b.test> X\xff\x1b=1", true));
  EXPECT_EQ(unknown.text, "Unsupported option: X\\xFF\\x1B");
}

TEST(ClientCommands, BuilderNeverWritesLineBreaksFromData) {
  Capabilities full = parse_ehlo({"x", "DSN"});
  Recipient bad{Address{"v", "inj.test"}, 0, "x\r\nRSET\r\n;v@inj.test"};
  EXPECT_EQ(rcpt_to_command(bad, full), "RCPT TO:<v@inj.test>\r\n");  // ORCPT left out
  Recipient encoded{Address{"v", "inj.test"}, 0, "rfc822;v\r\n@inj.test"};
  EXPECT_EQ(rcpt_to_command(encoded, full),
            "RCPT TO:<v@inj.test> ORCPT=rfc822;v+0D+0A@inj.test\r\n");
  Recipient broken{Address{"v\r\nRSET", "inj.test"}};
  EXPECT_FALSE(rcpt_to_command(broken, full));
  Envelope e;
  e.sender = Address{"a\nb", "x.test"};
  EXPECT_FALSE(mail_from_command(e, 1, full, false));
  e.sender = Address{"a", "x.test"};
  e.envid = "x\r\nQUIT";
  EXPECT_EQ(mail_from_command(e, 1, full, false), "MAIL FROM:<a@x.test> ENVID=x+0D+0AQUIT\r\n");
}

TEST(ClientCommands, RefusesNulForPeers) {
  Envelope e;
  e.sender = Address{"a", "example.net"};
  Capabilities peer = parse_ehlo({"x", "8BITMIME"});
  EXPECT_EQ(refuse_for_peer(e, std::string("a\r\n\0.\r\nRSET\r\n", 12), peer)->status, "5.6.0");
}

// Property: random arguments built from hostile pieces either fail to parse
// or round-trip through the client's builder as one line with equal fields.
TEST(ClientCommands, AcceptedEnvelopesRoundTripAsOneLine) {
  static const std::string_view kPieces[] = {"<v@inj.test>",
                                             "<\"q \\\" x\"@inj.test>",
                                             "<>",
                                             " ",
                                             "  ",
                                             "NOTIFY=",
                                             "SUCCESS",
                                             ",DELAY",
                                             "NEVER",
                                             "ORCPT=",
                                             "rfc822",
                                             "utf-8",
                                             ";",
                                             "x",
                                             "+0D",
                                             "+0A",
                                             "+00",
                                             "+2B",
                                             "+3D",
                                             "+20",
                                             "+7F",
                                             "+FF",
                                             "+",
                                             "=",
                                             "RSET",
                                             "ENVID=",
                                             "RET=FULL",
                                             "RET=HDRS",
                                             "SMTPUTF8",
                                             "BODY=8BITMIME",
                                             "SIZE=10",
                                             "\r",
                                             "\n",
                                             std::string_view("\0", 1),
                                             "\xc3\xa4",
                                             "@",
                                             "a.b",
                                             "TO:",
                                             "FROM:"};
  std::mt19937 random(7);
  std::size_t accepted = 0;
  for (int round = 0; round < 50000; ++round) {
    int pieces = 1 + static_cast<int>(random() % 8);
    auto piece = [&] { return kPieces[random() % std::size(kPieces)]; };
    std::string tail, rcpt_tail = "NOTIFY=SUCCESS ORCPT=rfc822;", mail_tail = "RET=FULL ENVID=";
    for (int i = 0; i < pieces; ++i) {
      tail += piece();                                              // anything at all
      rcpt_tail += random() % 3 ? std::string_view("x") : piece();  // mostly well-formed
      mail_tail += random() % 3 ? std::string_view("+2B") : piece();
    }
    for (const std::string& t : {tail, rcpt_tail, mail_tail}) {
      std::string rcpt = "TO:<v@inj.test> " + t, mail = "FROM:<a@b.test> " + t;
      ASSERT_TRUE(fuzz::rcpt_roundtrip_holds(rcpt)) << rcpt;
      ASSERT_TRUE(fuzz::mail_roundtrip_holds(mail)) << mail;
      ASSERT_TRUE(fuzz::rcpt_roundtrip_holds("TO:" + t)) << t;
      if (std::holds_alternative<RcptTo>(parse_rcpt_to(rcpt, true, false))) ++accepted;
      if (std::holds_alternative<MailFrom>(parse_mail_from(mail, true))) ++accepted;
    }
  }
  EXPECT_GT(accepted, 1000u);  // the generator reaches accepted envelopes too
}
