// SMS -> mail (sms_inbound.hpp): the mailbox a number belongs to, the
// catch-all, the sender and destination numbers, and what is refused.
// Concatenated SMS are sms_inbound_parts_test.cpp; what the SMSC is asked
// to send again, and copies it sends, sms_inbound_retry_test.cpp.
#include <gtest/gtest.h>

#include "tests/unit/sms/sms_inbound_fixture.hpp"

namespace bh::connectors::inbound_test {

TEST_F(SmsInbound, ASingleSmsBecomesAMailToTheNumbersOwner) {
  ASSERT_TRUE(inbound);
  InboundAnswer answer = inbound->receive(sms("Hello Anna"), 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.smpp_status, smpp::status::ok);
  EXPECT_EQ(answer.mailbox, "anna@example.com");
  EXPECT_FALSE(answer.queue_id.empty());

  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  const queue::QueuedMessage& mail = mails[0];
  EXPECT_EQ(mail.envelope.queue_id, answer.queue_id);
  ASSERT_EQ(mail.envelope.recipients.size(), 1u);
  EXPECT_EQ(mail.envelope.recipients[0].address.text(), "anna@example.com");
  EXPECT_EQ(mail.envelope.sender.text(), "postmaster@gw.test");
  EXPECT_EQ(mail.envelope.tenant, kTenant);
  EXPECT_NE(mail.content.find("+491701234567@sms.example.com"), std::string::npos) << mail.content;
  EXPECT_NE(mail.content.find("Hello Anna"), std::string::npos) << mail.content;

  // A reply from anna goes out from the number the SMS came in on.
  EXPECT_EQ(conversation("anna@example.com", "+491701234567"), "+4930123456");
}

TEST_F(SmsInbound, AnUnknownNumberIsRefusedWithoutACatchAll) {
  ASSERT_TRUE(inbound);
  InboundAnswer unknown = inbound->receive(sms("who?", "4930555555"), 1795000000);
  EXPECT_EQ(unknown.status, InboundStatus::refused);
  EXPECT_EQ(unknown.smpp_status, smpp::status::invalid_dest_address);
  EXPECT_NE(unknown.reason.find("+4930555555"), std::string::npos) << unknown.reason;
  // A fax-only number is no SMS number either.
  EXPECT_EQ(inbound->receive(sms("fax?", "4930999999"), 1795000000).smpp_status,
            smpp::status::invalid_dest_address);
  EXPECT_TRUE(queued().empty());
}

TEST_F(SmsInbound, TheCatchAllTakesOnlyNumbersNobodyOwns) {
  ASSERT_TRUE(inbound);
  settings.inbound.catch_all = "sms-inbox@example.com";
  InboundAnswer answer = inbound->receive(sms("to nobody", "4930555555"), 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.mailbox, "sms-inbox@example.com");
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope.recipients[0].address.text(), "sms-inbox@example.com");
  EXPECT_EQ(mails[0].envelope.tenant, kTenant);
  // The number is nobody's: no conversation makes a reply come from it.
  EXPECT_FALSE(conversation("sms-inbox@example.com", "+491701234567"));
}

// A number the directory knows is never the catch-all's: a fax-only number
// (here another tenant's) is refused, and nothing is mailed or remembered.
TEST_F(SmsInbound, AFaxOnlyNumberIsRefusedEvenWithACatchAll) {
  ASSERT_TRUE(inbound);
  settings.inbound.catch_all = "sms-inbox@example.com";
  for (const char* number : {"4940777777", "4930999999"}) {
    InboundAnswer answer = inbound->receive(sms("fax?", number), 1795000000);
    EXPECT_EQ(answer.status, InboundStatus::refused) << number;
    EXPECT_EQ(answer.smpp_status, smpp::status::invalid_dest_address) << number;
    EXPECT_NE(answer.reason.find("fax only"), std::string::npos) << answer.reason;
  }
  EXPECT_TRUE(queued().empty());
  EXPECT_FALSE(conversation("sms-inbox@example.com", "+491701234567"));
}

TEST_F(SmsInbound, AnAlphanumericSenderGetsNoReplyAddress) {
  ASSERT_TRUE(inbound);
  InboundAnswer answer = inbound->receive(sms("Your code 1234", "4930123456", "MyBank", 5), 1);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("no-reply@"), std::string::npos) << mails[0].content;
  EXPECT_EQ(mails[0].content.find("MyBank@"), std::string::npos) << mails[0].content;
  // Nobody can text it back: no conversation.
  EXPECT_FALSE(conversation("anna@example.com", "MyBank"));
}

TEST_F(SmsInbound, ANationalDestinationIsReadWithTheRegion) {
  ASSERT_TRUE(inbound);
  smpp::ShortMessage national = sms("national");
  national.destination = {2, 1, "030123456"};  // TON 2: national
  InboundAnswer answer = inbound->receive(national, 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.mailbox, "anna@example.com");
  smpp::ShortMessage bad = sms("bad");
  bad.destination = {1, 1, "49abc"};
  EXPECT_EQ(inbound->receive(bad, 1795000000).smpp_status, smpp::status::invalid_dest_address);
}

TEST_F(SmsInbound, BinaryDataAndRefusedMailsAreRefused) {
  ASSERT_TRUE(inbound);
  smpp::ShortMessage binary = sms(std::string("\x01\x02\x03", 3));
  binary.data_coding = 0x04;
  InboundAnswer data = inbound->receive(binary, 1795000000);
  EXPECT_EQ(data.status, InboundStatus::refused);
  EXPECT_EQ(data.smpp_status, smpp::status::permanent_app_error);

  // The intake refuses a mailbox no route takes: 5xx, the SMSC gives up.
  settings.inbound.catch_all = "someone@elsewhere.test";
  InboundAnswer unroutable = inbound->receive(sms("x", "4930555555"), 1795000000);
  EXPECT_EQ(unroutable.status, InboundStatus::refused);
  EXPECT_EQ(unroutable.smpp_status, smpp::status::permanent_app_error);
  EXPECT_NE(unroutable.reason.find("550"), std::string::npos) << unroutable.reason;

  inbound->stop();
  EXPECT_EQ(inbound->receive(sms("stopping"), 1795000000).smpp_status,
            smpp::status::temporary_app_error);
  EXPECT_TRUE(queued().empty());
}

}  // namespace bh::connectors::inbound_test
