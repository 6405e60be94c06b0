// Concatenated SMS: parts in any order, parts that never came (the
// sweep), a reused reference.
#include <gtest/gtest.h>

#include "tests/unit/sms/sms_inbound_fixture.hpp"

namespace bh::connectors::inbound_test {

TEST_F(SmsInbound, PartsInAnyOrderBecomeOneMail) {
  ASSERT_TRUE(inbound);
  InboundAnswer third = inbound->receive(part(42, 3, 3, "three"), 1795000000);
  EXPECT_EQ(third.status, InboundStatus::part_kept) << third.reason;
  EXPECT_EQ(third.smpp_status, smpp::status::ok);
  EXPECT_TRUE(queued().empty());
  // The SMSC sends a part again when our answer was lost: nothing changes.
  EXPECT_EQ(inbound->receive(part(42, 3, 3, "three"), 1795000001).status, InboundStatus::part_kept);
  EXPECT_EQ(inbound->receive(part(42, 3, 1, "one "), 1795000002).status, InboundStatus::part_kept);
  InboundAnswer last = inbound->receive(part(42, 3, 2, "two "), 1795000003);
  ASSERT_EQ(last.status, InboundStatus::queued) << last.reason;
  EXPECT_EQ(last.smpp_status, smpp::status::ok);

  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("one two three"), std::string::npos) << mails[0].content;
  // Mailed: the parts are gone from the store.
  auto left = store->expired_inbound(settings.name, 1795999999);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_TRUE(left->empty());
}

TEST_F(SmsInbound, AnExpiredMessageIsMailedWithWhatCame) {
  ASSERT_TRUE(inbound);
  settings.inbound.reassembly_timeout = std::chrono::seconds(600);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(7, 3, 1, "first "), t0).status, InboundStatus::part_kept);
  ASSERT_EQ(inbound->receive(part(7, 3, 3, "third"), t0 + 5).status, InboundStatus::part_kept);
  inbound->flush_expired(t0 + 599);
  EXPECT_TRUE(queued().empty());

  inbound->flush_expired(t0 + 601);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope.recipients[0].address.text(), "anna@example.com");
  EXPECT_NE(mails[0].content.find("first third"), std::string::npos) << mails[0].content;
  EXPECT_NE(mails[0].content.find("Part 2 of 3 did not arrive"), std::string::npos)
      << mails[0].content;
  EXPECT_NE(mails[0].content.find("+491701234567@sms.example.com"), std::string::npos);
  auto left = store->expired_inbound(settings.name, t0 + 10000);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_TRUE(left->empty());
  // Nothing is mailed twice.
  inbound->flush_expired(t0 + 1200);
  EXPECT_EQ(queued().size(), 1u);
}

// The last part came, its mail could not be queued, and the SMSC does not
// send it again: the sweep mails the whole message.
TEST_F(SmsInbound, ACompleteMessageWhoseMailFailedIsMailedByTheSweep) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(11, 2, 1, "acknowledged "), t0).status, InboundStatus::part_kept);
  FailingQueue failing(*this);
  InboundAnswer last = failing.inbound.receive(part(11, 2, 2, "and lost?"), t0 + 1);
  ASSERT_EQ(last.status, InboundStatus::unavailable) << last.reason;
  inbound->flush_expired(t0 + 601);  // part 2 is not that old yet
  EXPECT_TRUE(queued().empty());
  inbound->flush_expired(t0 + 602);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("acknowledged and lost?"), std::string::npos) << mails[0].content;
  EXPECT_EQ(mails[0].content.find("did not arrive"), std::string::npos) << mails[0].content;
  inbound->flush_expired(t0 + 1200);
  EXPECT_EQ(queued().size(), 1u);
  // Its parts are seen now: the SMSC sending the last one after all mails nothing.
  InboundAnswer late = inbound->receive(part(11, 2, 2, "and lost?"), t0 + 1300);
  EXPECT_EQ(late.status, InboundStatus::duplicate) << late.reason;
  EXPECT_EQ(late.smpp_status, smpp::status::ok);
  inbound->flush_expired(t0 + 5000);
  EXPECT_EQ(queued().size(), 1u);
}

// The phone reused a reference while an older message with it waited for
// a part: the older one goes out with what came, the new one starts.
TEST_F(SmsInbound, AReusedReferenceDoesNotMixTwoMessages) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(77, 2, 1, "old start "), t0).status, InboundStatus::part_kept);
  InboundAnswer reused = inbound->receive(part(77, 2, 1, "new start "), t0 + 60);
  ASSERT_EQ(reused.status, InboundStatus::part_kept) << reused.reason;
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("old start"), std::string::npos) << mails[0].content;
  EXPECT_NE(mails[0].content.find("Part 2 of 2 did not arrive"), std::string::npos);
  EXPECT_EQ(mails[0].content.find("new start"), std::string::npos) << mails[0].content;
  ASSERT_EQ(inbound->receive(part(77, 2, 2, "new end"), t0 + 61).status, InboundStatus::queued);
  mails = queued();
  ASSERT_EQ(mails.size(), 2u);
  int whole = 0;
  for (const auto& mail : mails)
    if (mail.content.find("new start new end") != std::string::npos) ++whole;
  EXPECT_EQ(whole, 1);
}

// An alphanumeric sender that looks like a number stays one after the
// parts timed out: no reply address.
TEST_F(SmsInbound, AnExpiredMessageKeepsItsAlphanumericSender) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(8, 2, 1, "code 1234", "+491701234567", 5), t0).status,
            InboundStatus::part_kept);
  inbound->flush_expired(t0 + 601);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("no-reply@sms.example.com"), std::string::npos)
      << mails[0].content;
  EXPECT_EQ(mails[0].content.find("+491701234567@"), std::string::npos) << mails[0].content;
  EXPECT_FALSE(conversation("anna@example.com", "+491701234567"));
}

}  // namespace bh::connectors::inbound_test
