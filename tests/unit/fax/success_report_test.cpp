// RecipientResult::report (a fax connector's success_notice = "report"):
// kept through the pending store with its diagnostic type, and a success
// DSN without NOTIFY=SUCCESS unless NOTIFY=NEVER that reads as a short fax
// report. What a finished job's report says (fax_report.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "connectors/fax/fax_report.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "store/pending_store.hpp"
#include "tests/unit/store/store_fixture.hpp"
#include "util/files.hpp"
#include "util/printable.hpp"

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

TEST_P(FaxPendingReport, DiagnosticTypeSurvivesTheStore) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = store::PendingStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->add({"fax", "job-1", "gw1", "QID1", "+4930123456@fax.example", 1, 2000}));
  store::PendingResolution fax{true, "2.0.0", "fax was sent", "fax.example", true, "x-fax"};
  ASSERT_TRUE((*store)->resolve("fax", "job-1", fax, 10));
  store::PendingResolution plain{false, "5.0.0", "550 no", "mx.example", false};
  ASSERT_TRUE((*store)->resolve("hook", "job-2", plain, 10));  // an early report
  EXPECT_EQ((*(*store)->resolution("fax", "job-1"))->diagnostic_type, "x-fax");
  EXPECT_EQ((*(*store)->resolution("hook", "job-2"))->diagnostic_type, "smtp");
  auto resolved = (*store)->resolved_for("gw1");
  ASSERT_TRUE(resolved && resolved->size() == 1u);
  EXPECT_EQ(resolved->front().resolution.diagnostic_type, "x-fax");
  fax.diagnostic_type = "x-other";  // a later report replaces it
  ASSERT_TRUE((*store)->resolve("fax", "job-1", fax, 11));
  EXPECT_EQ((*(*store)->resolution("fax", "job-1"))->diagnostic_type, "x-other");
}

// A store made by version 2 of the migrations (before diagnostic types):
// its reports read as SMTP ones (what the DSN wrote for them then).
TEST_P(FaxPendingReport, VersionTwoStoreGainsTheColumn) {
  auto database = db.open();
  ASSERT_TRUE(database);
  const std::vector<store::Migration> version_two = {
      {1,
       "CREATE TABLE pending (connector TEXT NOT NULL, reference TEXT NOT NULL, node TEXT NOT "
       "NULL DEFAULT '', queue_id TEXT NOT NULL DEFAULT '', recipient TEXT NOT NULL DEFAULT '', "
       "since BIGINT NOT NULL DEFAULT 0, deadline BIGINT NOT NULL DEFAULT 0, resolved BIGINT NOT "
       "NULL DEFAULT 0, delivered BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT '', "
       "diagnostic TEXT NOT NULL DEFAULT '', remote_mta TEXT NOT NULL DEFAULT '', PRIMARY KEY "
       "(connector, reference));",
       {}},
      {2, "ALTER TABLE pending ADD COLUMN report BIGINT NOT NULL DEFAULT 0;", {}},
  };
  ASSERT_TRUE(database->migrate("pending", version_two));
  ASSERT_TRUE(database->execute(
      "INSERT INTO pending (connector, reference, node, queue_id, resolved, delivered, status, "
      "diagnostic) VALUES ('smtp-hook', 'r1', 'gw1', 'QID1', 1, 0, '5.0.0', 'old report')",
      {}));
  auto store = store::PendingStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  auto old = (*store)->resolution("smtp-hook", "r1");
  ASSERT_TRUE(old && old->has_value());
  EXPECT_EQ((*old)->diagnostic, "old report");
  EXPECT_EQ((*old)->diagnostic_type, "smtp");
}

INSTANTIATE_TEST_SUITE_P(FaxStore, FaxPendingReport,
                         ::testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::backend_test_name);

// How many success DSNs record_outcome places for one delivered recipient
// (texts: their queue files).
std::size_t success_dsns(unsigned notify, bool report, bool null_sender = false,
                         std::vector<std::string>* texts = nullptr) {
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
  connectors::fax::FaxJobReport job;
  job.number = "+4930123456";
  job.sent = true;
  job.pages_sent = job.pages_total = 3;
  job.duration = std::chrono::seconds(41);
  job.remote_csid = "+49 30 999";
  connectors::RecipientResult result = connectors::fax::result_of_report(
      job, report ? connectors::fax::SuccessNotice::report : connectors::fax::SuccessNotice::dsn,
      "fax.example.com");
  OutcomeSettings settings;
  int next = 0;
  RecordedOutcome outcome = record_outcome(spool, done_log, settings, message, {result},
                                           [&] { return "BBBB000" + std::to_string(++next); });
  done_log.stop();
  for (const std::string& id : outcome.new_messages)
    if (texts) texts->push_back(read_whole_file(spool.file(queue::State::incoming, id)).value());
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

TEST(FaxSuccessReport, ReadsAsAShortFaxReport) {
  std::vector<std::string> texts;
  ASSERT_EQ(success_dsns(0, true, false, &texts), 1u);
  ASSERT_EQ(texts.size(), 1u);
  const std::string& dsn = texts[0];
  // The first line of the human part (quoted-printable: short enough to
  // stay on one line up to here).
  EXPECT_NE(dsn.find("quoted-printable\r\n\r\nYour fax to +49 30 123456 was sent: 3 of 3 "),
            std::string::npos)
      << dsn;
  EXPECT_NE(dsn.find("\r\nSubject: Your fax was sent\r\n"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("\r\nDiagnostic-Code: x-fax; fax to +49 30 123456 was sent: 3 of 3 pages "
                     "in 41 s, remote station \"+49 30 999\"\r\n"),
            std::string::npos)
      << dsn;
  EXPECT_NE(dsn.find("\r\nRemote-MTA: dns; fax.example.com\r\n"), std::string::npos) << dsn;
}

namespace {
connectors::fax::FaxJobReport sent_job() {
  connectors::fax::FaxJobReport job;
  job.number = "+4930123456";
  job.sent = true;
  job.pages_sent = job.pages_total = 2;
  return job;
}
}  // namespace

TEST(FaxJobResult, UnknownDurationIsLeftOut) {
  using connectors::fax::result_of_report;
  auto job = sent_job();
  auto result = result_of_report(job, connectors::fax::SuccessNotice::dsn, "fax.example");
  EXPECT_EQ(result.diagnostic, "fax to +49 30 123456 was sent: 2 of 2 pages");
  EXPECT_EQ(result.diagnostic_type, "x-fax");
  EXPECT_EQ(result.outcome, connectors::Outcome::delivered);
  EXPECT_FALSE(result.report);
  job.duration = std::chrono::seconds(63);
  EXPECT_EQ(result_of_report(job, connectors::fax::SuccessNotice::report, "fax.example").diagnostic,
            "fax to +49 30 123456 was sent: 2 of 2 pages in 63 s");
  job.sent = false;
  job.status_text = "Busy signal detected";
  job.status_code = 5;
  auto failed = result_of_report(job, connectors::fax::SuccessNotice::dsn, "fax.example");
  EXPECT_EQ(failed.diagnostic_type, "x-fax");
  EXPECT_EQ(failed.status, "5.4.0");
  EXPECT_NE(failed.diagnostic.find("Busy signal detected (status 5)"), std::string::npos)
      << failed.diagnostic;
}

// The server's text is cut at 200 bytes on a character boundary: a
// multi-byte character or a byte that becomes \xHH is never split.
TEST(FaxJobResult, LongServerTextIsCutAtACharacter) {
  using connectors::fax::result_of_report;
  auto csid_of = [](const std::string& csid) {
    auto job = sent_job();
    job.remote_csid = csid;
    std::string d =
        result_of_report(job, connectors::fax::SuccessNotice::dsn, "fax.example").diagnostic;
    std::size_t open = d.find("remote station \"");
    EXPECT_NE(open, std::string::npos) << d;
    return d.substr(open + 16, d.size() - open - 17);
  };
  std::string umlauts;
  while (umlauts.size() < 199) umlauts += "x";
  umlauts += "\xC3\xA4\xC3\xA4";  // "ä" at bytes 199-200 would be cut in half
  std::string cut = csid_of(umlauts);
  EXPECT_TRUE(valid_utf8(cut)) << cut;
  EXPECT_EQ(cut, std::string(199, 'x'));
  std::string bad = std::string(199, 'y') + "\xFF\xFF";  // not UTF-8: escaped whole
  EXPECT_EQ(csid_of(bad), std::string(199, 'y') + "\\xFF");
  std::string quotes = "a\"b";
  EXPECT_EQ(csid_of(quotes), "a'b");
  EXPECT_EQ(csid_of(std::string(200, 'z')), std::string(200, 'z'));
}

TEST(FaxJobResult, Utf8PrefixKeepsWholeCharacters) {
  EXPECT_EQ(utf8_prefix("M\xC3\xA4rz", 2), "M");
  EXPECT_EQ(utf8_prefix("M\xC3\xA4rz", 3), "M\xC3\xA4");
  EXPECT_EQ(utf8_prefix("\xF0\x9F\x93\xA0 fax", 3), "");
  EXPECT_EQ(utf8_prefix("\xF0\x9F\x93\xA0 fax", 4), "\xF0\x9F\x93\xA0");
  EXPECT_EQ(utf8_prefix("ab\xFF\xFE", 3), "ab\xFF");  // not UTF-8: one byte each
  EXPECT_EQ(utf8_prefix("short", 200), "short");
}

// The done log keeps the type for a DSN made after a restart; an SMTP
// result is written as before the type existed.
TEST(FaxSuccessReport, DoneLogKeepsTheDiagnosticType) {
  queue::DoneRecord record;
  record.id = "AAAA0001";
  record.generation = 2;
  record.result = {true,   "2.0.0", "fax.example", "delivered", "fax was sent: 1 of 1 pages",
                   "x-fax"};
  auto line_of = [](const queue::DoneRecord& r) {
    std::string line = queue::format_done_record(r);
    return line.substr(0, line.size() - 1);  // without the newline
  };
  auto parsed = queue::parse_done_record(line_of(record));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->result.diagnostic_type, "x-fax");
  EXPECT_EQ(parsed->result.diagnostic, "fax was sent: 1 of 1 pages");
  record.result.diagnostic_type = "smtp";
  std::string line = line_of(record);
  EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 9) << line;  // 9 fields and the hash
  parsed = queue::parse_done_record(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->result.diagnostic_type, "smtp");
}
