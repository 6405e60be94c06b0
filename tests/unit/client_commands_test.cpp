#include <gtest/gtest.h>

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
