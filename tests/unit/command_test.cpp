#include <gtest/gtest.h>

#include "smtp/proto/command.hpp"

using namespace bh::smtp;

TEST(Command, VerbsAreCaseInsensitive) {
  EXPECT_EQ(parse_command("ehlo x").verb, Verb::ehlo);
  EXPECT_EQ(parse_command("StartTLS").verb, Verb::starttls);
  EXPECT_EQ(parse_command("MAILX FROM:<>").verb, Verb::unknown);
  EXPECT_EQ(parse_command("MAIL FROM:<a@b>").argument, "FROM:<a@b>");
}

TEST(Command, MailFromParameters) {
  auto parsed = parse_mail_from(
      "FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=ab+2Bc", true);
  auto* mail = std::get_if<MailFrom>(&parsed);
  ASSERT_NE(mail, nullptr);
  EXPECT_EQ(*mail->size, 1000u);
  EXPECT_EQ(mail->body, bh::BodyType::eight_bit_mime);
  EXPECT_TRUE(mail->smtputf8);
  EXPECT_EQ(mail->ret, bh::DsnReturn::headers);
  EXPECT_EQ(mail->envid, "ab+c");
}

TEST(Command, MailFromAcceptsSpaceAfterColon) {
  EXPECT_TRUE(std::holds_alternative<MailFrom>(parse_mail_from("FROM: <a@example.com>", true)));
}

TEST(Command, MailFromRefusals) {
  auto code = [](std::string_view arg, bool extended = true) {
    auto parsed = parse_mail_from(arg, extended);
    auto* failure = std::get_if<ParseFailure>(&parsed);
    return failure ? failure->code : 250;
  };
  EXPECT_EQ(code("TO:<a@example.com>"), 501);
  EXPECT_EQ(code("FROM:<a@example.com> SIZE=x"), 501);
  EXPECT_EQ(code("FROM:<a@example.com> SIZE=99999999999999999999"), 501);
  EXPECT_EQ(code("FROM:<a@example.com> XFOO=1"), 555);
  EXPECT_EQ(code("FROM:<a@example.com> SIZE=10", false), 555);
  EXPECT_EQ(code("FROM:<a@example.com> ENVID=a=b"), 501);
  EXPECT_EQ(code("FROM:<j\xc3\xb6rg@example.com>"), 553);
}

TEST(Command, RcptToDsn) {
  auto parsed = parse_rcpt_to(
      "TO:<b@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40x@example.com", true, false);
  auto* rcpt = std::get_if<RcptTo>(&parsed);
  ASSERT_NE(rcpt, nullptr);
  EXPECT_EQ(rcpt->recipient.notify, bh::notify_success | bh::notify_delay);
  EXPECT_EQ(rcpt->recipient.orcpt, "rfc822;b@x@example.com");
}

TEST(Command, NotifyNeverIsExclusive) {
  EXPECT_TRUE(std::holds_alternative<ParseFailure>(
      parse_rcpt_to("TO:<b@example.com> NOTIFY=NEVER,FAILURE", true, false)));
  EXPECT_TRUE(std::holds_alternative<RcptTo>(
      parse_rcpt_to("TO:<b@example.com> NOTIFY=NEVER", true, false)));
}

TEST(Command, Bdat) {
  EXPECT_EQ(parse_bdat("100")->size, 100u);
  EXPECT_TRUE(parse_bdat("0 LAST")->last);
  EXPECT_TRUE(parse_bdat("5 last")->last);
  EXPECT_FALSE(parse_bdat("x"));
  EXPECT_FALSE(parse_bdat("5 FIRST"));
  EXPECT_FALSE(parse_bdat("-1"));
}

TEST(Command, Xtext) {
  EXPECT_EQ(*decode_xtext("a+2Bb"), "a+b");
  EXPECT_FALSE(decode_xtext("a+2"));
  EXPECT_FALSE(decode_xtext("a+ZZ"));
  EXPECT_FALSE(decode_xtext("a b"));
}
