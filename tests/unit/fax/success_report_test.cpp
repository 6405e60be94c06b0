// RecipientResult::report (a fax connector's success_notice = "report"):
// kept through the pending store, and a success DSN without NOTIFY=SUCCESS
// unless NOTIFY=NEVER.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "store/pending_store.hpp"
#include "tests/unit/store/store_fixture.hpp"

using namespace bh;

namespace {

class FaxPendingReport : public ::testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override { ASSERT_TRUE(db.ok()) << db.message(); }
  test::TestStore db{GetParam()};
};

TEST_P(FaxPendingReport, ReportFlagSurvivesTheStore) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = store::PendingStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->add({"fax", "job-1", "gw1", "QID1", "+4930123456@fax.example", 1, 2000}));
  ASSERT_TRUE((*store)->add({"fax", "job-2", "gw1", "QID2", "+4930123456@fax.example", 1, 2000}));
  ASSERT_TRUE((*store)->resolve("fax", "job-1", {true, "2.0.0", "fax sent", "spool", true}, 10));
  ASSERT_TRUE((*store)->resolve("fax", "job-2", {true, "2.0.0", "fax sent", "spool", false}, 10));
  auto one = (*store)->resolution("fax", "job-1");
  auto two = (*store)->resolution("fax", "job-2");
  ASSERT_TRUE(one && one->has_value() && two && two->has_value());
  EXPECT_TRUE((*one)->report);
  EXPECT_FALSE((*two)->report);
  // An update of an early report keeps the flag of the latest report.
  ASSERT_TRUE((*store)->resolve("fax", "job-1", {true, "2.0.0", "again", "spool", false}, 11));
  EXPECT_FALSE((*(*store)->resolution("fax", "job-1"))->report);
}

INSTANTIATE_TEST_SUITE_P(FaxStore, FaxPendingReport,
                         ::testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::backend_test_name);

// How many success DSNs record_outcome places for one delivered recipient.
std::size_t success_dsns(unsigned notify, bool report, bool null_sender = false) {
  auto root = std::filesystem::temp_directory_path() /
              ("bh-fax-report-" + std::to_string(getpid()) + "-" + std::to_string(notify) +
               (report ? "r" : "") + (null_sender ? "n" : ""));
  std::filesystem::remove_all(root);
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
  if (!null_sender) message.envelope.sender = Address{"ann", "example.com"};
  Recipient recipient;
  recipient.address = Address{"+4930123456", "fax.example.com"};
  recipient.notify = notify;
  message.envelope.recipients.push_back(recipient);
  message.content = "From: ann@example.com\r\nSubject: x\r\n\r\nhello\r\n";
  EXPECT_TRUE(queue::Spool::write_file(spool.file(queue::State::active, "AAAA0001"),
                                       message.envelope, message.content));
  connectors::RecipientResult result{connectors::Outcome::delivered, "2.0.0",
                                     "fax sent to +49 30 123456: 3 of 3 pages in 41 s"};
  result.success_action = "delivered";
  result.report = report;
  OutcomeSettings settings;
  int next = 0;
  RecordedOutcome outcome = record_outcome(spool, done_log, settings, message, {result},
                                           [&] { return "BBBB000" + std::to_string(++next); });
  done_log.stop();
  std::filesystem::remove_all(root);
  return outcome.new_messages.size();
}

}  // namespace

TEST(FaxSuccessReport, SentWhenAskedOrReportedUnlessNever) {
  EXPECT_EQ(success_dsns(0, false), 0u);  // NOTIFY not given: no success DSN
  EXPECT_EQ(success_dsns(notify_success, false), 1u);
  EXPECT_EQ(success_dsns(0, true), 1u);  // the connector reports always
  EXPECT_EQ(success_dsns(notify_failure, true), 1u);
  EXPECT_EQ(success_dsns(notify_never, true), 0u);
  EXPECT_EQ(success_dsns(0, true, true), 0u);  // nobody to tell
}
