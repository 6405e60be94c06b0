// What the SMSC is asked to send again (the directory or the queue
// unavailable, the bounded wait), and the copies it sends: ok, no second mail.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>

#include <boost/asio/io_context.hpp>

#include "intake/submit_wait.hpp"
#include "tests/unit/sms/sms_inbound_fixture.hpp"

namespace bh::connectors::inbound_test {

TEST_F(SmsInbound, AnUnavailableDirectoryAsksTheSmscToTryAgain) {
  ASSERT_TRUE(inbound);
  directory.unavailable = true;
  InboundAnswer answer = inbound->receive(sms("later"), 1795000000);
  EXPECT_EQ(answer.status, InboundStatus::unavailable);
  EXPECT_EQ(answer.smpp_status, smpp::status::temporary_app_error);
  EXPECT_NE(answer.reason.find("directory is unavailable"), std::string::npos) << answer.reason;
  // Not even a part is kept: the SMSC sends it again.
  EXPECT_EQ(inbound->receive(part(9, 2, 1, "a"), 1795000000).status, InboundStatus::unavailable);
  directory.unavailable = false;
  auto left = store->expired_inbound(settings.name, 1795999999);
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  EXPECT_TRUE(queued().empty());
}

TEST_F(SmsInbound, AQueueThatCannotWriteAsksTheSmscToTryAgain) {
  ASSERT_TRUE(inbound);
  ASSERT_EQ(inbound->receive(part(5, 2, 1, "kept "), 1795000000).status, InboundStatus::part_kept);
  commit.stop();  // later submissions fail: 451 4.3.0
  InboundAnswer single = inbound->receive(sms("not now"), 1795000000);
  EXPECT_EQ(single.status, InboundStatus::unavailable);
  EXPECT_EQ(single.smpp_status, smpp::status::temporary_app_error);
  EXPECT_NE(single.reason.find("451"), std::string::npos) << single.reason;
  InboundAnswer last = inbound->receive(part(5, 2, 2, "then"), 1795000001);
  EXPECT_EQ(last.status, InboundStatus::unavailable);
  EXPECT_EQ(last.smpp_status, smpp::status::temporary_app_error);
  // The parts stay: when the SMSC sends the last one again, the message is whole.
  InboundPart again;
  again.source = "+491701234567";
  again.destination = "+4930123456";
  again.reference = 5;
  again.total = 2;
  again.sequence = 2;
  again.text = "then";
  again.received_at = 1795000002;
  auto whole = store->add_inbound_part(settings.name, again);
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_EQ(whole->outcome, InboundAdd::complete);
  EXPECT_EQ(whole->message.parts.size(), 2u);
  // No conversation for an SMS that was not queued.
  EXPECT_FALSE(conversation("anna@example.com", "+491701234567"));
}

// The SMSC did not hear our ok in time and sends the SMS again: ok, and no
// second mail. After inbound_duplicate_window the same text is a new SMS
// (a second "ok"), with a Message-ID of its own.
TEST_F(SmsInbound, AnSmsDeliveredAgainIsMailedOnce) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(sms("once"), t0).status, InboundStatus::queued);
  InboundAnswer again = inbound->receive(sms("once"), t0 + 12);
  EXPECT_EQ(again.status, InboundStatus::duplicate) << again.reason;
  EXPECT_EQ(again.smpp_status, smpp::status::ok);
  EXPECT_EQ(queued().size(), 1u);
  // Another text, sender or number is another SMS.
  ASSERT_EQ(inbound->receive(sms("twice"), t0 + 13).status, InboundStatus::queued);
  ASSERT_EQ(inbound->receive(sms("once", "4930123456", "491709999999"), t0 + 14).status,
            InboundStatus::queued);
  EXPECT_EQ(queued().size(), 3u);

  const std::int64_t window = SmsSettings{}.inbound.duplicate_window.count();
  ASSERT_EQ(inbound->receive(sms("once"), t0 + window + 1).status, InboundStatus::queued);
  std::map<std::string, int> ids;
  for (const auto& mail : queued()) ++ids[message_id(mail.content)];
  EXPECT_EQ(ids.size(), 4u);  // the later "once" is not dropped as a copy by the mailbox
}

// Not queued, not seen: the SMSC's next try makes the mail.
TEST_F(SmsInbound, AnSmsWhoseMailFailedIsNotTakenForACopy) {
  ASSERT_TRUE(inbound);
  FailingQueue failing(*this);
  EXPECT_EQ(failing.inbound.receive(sms("retry me"), 1795000000).status,
            InboundStatus::unavailable);
  EXPECT_EQ(inbound->receive(sms("retry me"), 1795000010).status, InboundStatus::queued);
  EXPECT_EQ(queued().size(), 1u);
}

// A part sent again after its message was mailed starts no new message.
TEST_F(SmsInbound, APartDeliveredAgainAfterItsMailIsADuplicate) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(3, 2, 1, "one "), t0).status, InboundStatus::part_kept);
  ASSERT_EQ(inbound->receive(part(3, 2, 2, "two"), t0 + 1).status, InboundStatus::queued);
  EXPECT_EQ(inbound->receive(part(3, 2, 1, "one "), t0 + 30).status, InboundStatus::duplicate);
  inbound->flush_expired(t0 + 5000);
  EXPECT_EQ(queued().size(), 1u);
}

// The bounded wait: no answer (the executor does not run) or a stop.
TEST_F(SmsInbound, SubmitAndWaitGivesUp) {
  boost::asio::io_context idle;  // never run: the answer never comes
  intake::Ingest stuck{policy, commit, [] { return std::string("X"); },
                       [] { return std::int64_t{1}; }, idle.get_executor()};
  std::atomic<bool> stopping{false};
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(intake::submit_and_wait(stuck, intake::Submission{}, std::chrono::milliseconds(300),
                                       stopping));
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(3));
  stopping = true;
  started = std::chrono::steady_clock::now();
  EXPECT_FALSE(
      intake::submit_and_wait(stuck, intake::Submission{}, std::chrono::seconds(30), stopping));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

}  // namespace bh::connectors::inbound_test
