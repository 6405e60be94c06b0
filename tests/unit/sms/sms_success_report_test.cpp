// success_notice = "report" end to end: a delivered receipt's result
// (receipt_result) through record_outcome becomes a success DSN without
// NOTIFY=SUCCESS that reads as a short SMS report (mail/dsn.cpp), and
// success_notice = "dsn" gives none without NOTIFY=SUCCESS.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "connectors/sms/sms_outbound.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "tests/unit/temp_dir.hpp"
#include "util/files.hpp"

namespace bh::connectors::sms {
namespace {

// The success DSNs record_outcome places for one recipient whose SMS was
// delivered in two parts.
std::vector<std::string> success_dsns(SuccessNotice notice, unsigned notify) {
  test::TempDir root("bh-sms-report");
  queue::Spool spool(root / "spool");
  EXPECT_TRUE(spool.create_layout());
  queue::DoneLog done_log(root / "done");
  EXPECT_TRUE(done_log.open(spool));
  done_log.start();
  queue::QueuedMessage message;
  message.envelope.queue_id = "AAAA0001";
  message.envelope.arrival = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  message.envelope.sender = Address{"anna", "example.com"};
  Recipient recipient;
  recipient.address = Address{"+491701234567", "sms.example.com"};
  recipient.notify = notify;
  message.envelope.recipients.push_back(recipient);
  message.content = "From: anna@example.com\r\nSubject: x\r\n\r\nhello\r\n";
  EXPECT_TRUE(queue::Spool::write_file(spool.file(queue::State::active, "AAAA0001"),
                                       message.envelope, message.content));
  SmsSettings settings;
  settings.success_notice = notice;
  settings.binds.emplace_back();
  settings.binds.back().host = "smsc.example.net";
  Settlement settlement;
  settlement.delivered = true;
  settlement.parts = 2;
  RecipientResult result = receipt_result(settlement, settings, "+491701234567");
  int next = 0;
  RecordedOutcome outcome = record_outcome(spool, done_log, OutcomeSettings{}, message, {result},
                                           [&] { return "BBBB000" + std::to_string(++next); });
  done_log.stop();
  std::vector<std::string> texts;
  for (const std::string& id : outcome.new_messages)
    texts.push_back(read_whole_file(spool.file(queue::State::incoming, id)).value());
  return texts;
}

TEST(SmsSuccessReport, ReportNoticeSendsAShortSmsReport) {
  std::vector<std::string> texts = success_dsns(SuccessNotice::report, 0);
  ASSERT_EQ(texts.size(), 1u);
  const std::string& dsn = texts[0];
  EXPECT_NE(dsn.find("\r\nSubject: Your SMS was delivered\r\n"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("quoted-printable\r\n\r\nYour SMS to +49 170 1234567 was delivered (2 "
                     "parts).\r\n"),
            std::string::npos)
      << dsn;
  EXPECT_EQ(dsn.find("listed below"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("\r\nDiagnostic-Code: x-smpp; SMS to +49 170 1234567 was delivered (2 "
                     "parts)\r\n"),
            std::string::npos)
      << dsn;
  EXPECT_TRUE(success_dsns(SuccessNotice::report, notify_never).empty());
}

TEST(SmsSuccessReport, DsnNoticeReportsOnlyWhenAsked) {
  EXPECT_TRUE(success_dsns(SuccessNotice::dsn, 0).empty());
  std::vector<std::string> asked = success_dsns(SuccessNotice::dsn, notify_success);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(asked[0].find("\r\nSubject: Successful Mail Delivery Report\r\n"), std::string::npos)
      << asked[0];
}

}  // namespace
}  // namespace bh::connectors::sms
