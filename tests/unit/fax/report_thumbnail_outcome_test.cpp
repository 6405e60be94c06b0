// record_outcome's side of page one's thumbnail in the fax success report:
// it asks the connector of each final pending recipient when it writes
// the success report (within the report's 2 MiB), lets it drop the
// thumbnail afterwards, and sends the report without one when the
// connector's store fails; a failure DSN and a RET=HDRS report carry none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "connectors/fax/fax_report.hpp"
#include "connectors/fax/report_thumbnails.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "mail/dsn.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "tests/unit/fax/flaky_database.hpp"
#include "tests/unit/store/store_fixture.hpp"
#include "util/clock.hpp"
#include "util/files.hpp"

using namespace bh;
namespace fax = bh::connectors::fax;

namespace {

std::string png_of(std::size_t size, char fill = 'x') {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  png.resize(size, fill);
  return png;
}

// A connector that kept an attachment per reference, and says which were
// released.
class KeepingConnector final : public connectors::Connector {
 public:
  void deliver(connectors::DeliveryRequest, connectors::DeliveryDone done) override { done({}); }
  std::optional<ReportAttachment> report_attachment(const std::string& reference) override {
    asked.push_back(reference);
    auto it = kept.find(reference);
    if (it == kept.end()) return std::nullopt;
    return ReportAttachment{"image/png", "page1.png", "page one of the fax", it->second};
  }
  void report_written(const std::string& reference) override { written.push_back(reference); }
  std::map<std::string, std::string> kept;
  std::vector<std::string> asked, written;
};

struct Recorded {
  std::vector<std::string> dsns;  // the queue files of the DSNs placed
};

// record_outcome of one message whose recipients (fax numbers, pending
// with references job-1, job-2, ...) got these results.
Recorded record(connectors::Connector& connector,
                const std::vector<connectors::RecipientResult>& results, const std::string& name,
                DsnReturn ret = DsnReturn::unspecified, bool dsn_fails = false) {
  auto root = std::filesystem::temp_directory_path() /
              ("bh-fax-thumbnail-outcome-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(root);
  queue::Spool spool(root / "spool");
  EXPECT_TRUE(spool.create_layout());
  queue::DoneLog done_log(root / "done");
  EXPECT_TRUE(done_log.open(spool));
  done_log.start();
  queue::QueuedMessage message;
  message.envelope.queue_id = "AAAA0001";
  message.envelope.arrival = unix_now();
  message.envelope.sender = Address{"ann", "example.com"};
  message.envelope.ret = ret;
  for (std::size_t i = 0; i < results.size(); ++i) {
    Recipient r;
    r.address = Address{"+493012345" + std::to_string(i), "fax.example.com"};
    r.connector = "fax";
    r.pending_reference = "job-" + std::to_string(i + 1);
    r.pending_deadline = unix_now() + 3600;
    message.envelope.recipients.push_back(r);
  }
  message.content = "From: ann@example.com\r\nSubject: x\r\n\r\nhello\r\n";
  EXPECT_TRUE(queue::Spool::write_file(spool.file(queue::State::active, "AAAA0001"),
                                       message.envelope, message.content));
  if (dsn_fails) {
    // No DSN can be written: its folder is a file.
    std::filesystem::remove_all(spool.tmp_folder());
    EXPECT_TRUE(write_file_durably(spool.tmp_folder(), "not a folder"));
  }
  OutcomeSettings settings;
  settings.connector = [&](const std::string& n) -> connectors::Connector* {
    return n == "fax" ? &connector : nullptr;
  };
  int next = 0;
  RecordedOutcome outcome = record_outcome(spool, done_log, settings, message, results,
                                           [&] { return "BBBB000" + std::to_string(++next); });
  done_log.stop();
  Recorded recorded;
  for (const std::string& id : outcome.new_messages)
    recorded.dsns.push_back(read_whole_file(spool.file(queue::State::incoming, id)).value());
  std::filesystem::remove_all(root);
  return recorded;
}

connectors::RecipientResult sent() {
  fax::FaxJobReport job;
  job.number = "+4930123456";
  job.sent = true;
  job.pages_sent = job.pages_total = 1;
  return fax::result_of_report(job, fax::SuccessNotice::report, "fax.example.com");
}

connectors::RecipientResult failed() {
  fax::FaxJobReport job;
  job.status_text = "Busy signal detected";
  job.status_code = 5;
  return fax::result_of_report(job, fax::SuccessNotice::report, "fax.example.com");
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(FaxReportThumbnail, TheSuccessReportCarriesItAndTheConnectorDropsIt) {
  KeepingConnector connector;
  connector.kept["job-1"] = png_of(400);
  Recorded recorded = record(connector, {sent()}, "one");
  ASSERT_EQ(recorded.dsns.size(), 1u);
  const std::string& dsn = recorded.dsns[0];
  EXPECT_NE(dsn.find("Subject: Your fax was sent\r\n"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("Content-Type: image/png;"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("Content-Disposition: inline;\r\n\tfilename=\"page1.png\""), std::string::npos)
      << dsn;
  EXPECT_EQ(connector.asked, std::vector<std::string>{"job-1"});
  EXPECT_EQ(connector.written, std::vector<std::string>{"job-1"});
}

// Several recipients of one rendering share one picture; a failure's DSN
// has none, though its thumbnail is dropped all the same.
TEST(FaxReportThumbnail, OneCopyPerPictureAndNoneInAFailure) {
  KeepingConnector connector;
  connector.kept["job-1"] = connector.kept["job-2"] = png_of(400);
  connector.kept["job-3"] = png_of(500);
  Recorded recorded = record(connector, {sent(), sent(), failed()}, "three");
  ASSERT_EQ(recorded.dsns.size(), 2u);  // the failure's and the success's
  std::string failure = recorded.dsns[0], success = recorded.dsns[1];
  if (failure.find("Undelivered Mail") == std::string::npos) std::swap(failure, success);
  EXPECT_EQ(failure.find("image/png"), std::string::npos) << failure;
  EXPECT_EQ(count(success, "Content-Type: image/png;"), 1u) << success;
  EXPECT_EQ(connector.asked, (std::vector<std::string>{"job-1", "job-2"}));
  EXPECT_EQ(connector.written, (std::vector<std::string>{"job-1", "job-2", "job-3"}));
}

// No thumbnail kept (it could not be written or read): the report goes out
// without it, as before.
TEST(FaxReportThumbnail, AMissingThumbnailLeavesThePlainReport) {
  KeepingConnector connector;
  Recorded recorded = record(connector, {sent()}, "missing");
  ASSERT_EQ(recorded.dsns.size(), 1u);
  EXPECT_EQ(recorded.dsns[0].find("image/png"), std::string::npos) << recorded.dsns[0];
  EXPECT_EQ(recorded.dsns[0].find("multipart/mixed"), std::string::npos) << recorded.dsns[0];
  EXPECT_NE(recorded.dsns[0].find("Subject: Your fax was sent\r\n"), std::string::npos);
  EXPECT_EQ(connector.written, std::vector<std::string>{"job-1"});
}

// Pictures past the report's kMaxReportAttachmentBytes are left out (and
// logged), the others go.
TEST(FaxReportThumbnail, TheReportTakesPicturesUpToItsCap) {
  KeepingConnector connector;
  const std::size_t third = kMaxReportAttachmentBytes / 3 + 1;
  connector.kept["job-1"] = png_of(third, 'a');
  connector.kept["job-2"] = png_of(third, 'b');
  connector.kept["job-3"] = png_of(third, 'c');  // would pass the cap
  connector.kept["job-4"] = png_of(100, 'd');    // still fits
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  Recorded recorded = record(connector, {sent(), sent(), sent(), sent()}, "cap");
  std::string logged = testing::internal::GetCapturedStdout();
  logged += testing::internal::GetCapturedStderr();
  ASSERT_EQ(recorded.dsns.size(), 1u);
  EXPECT_EQ(count(recorded.dsns[0], "Content-Type: image/png;"), 3u);
  EXPECT_NE(logged.find("dsn_attachment_left_out"), std::string::npos) << logged;
  EXPECT_NE(logged.find("bytes=" + std::to_string(third)), std::string::npos) << logged;
  EXPECT_EQ(count(logged, "dsn_attachment_left_out"), 1u) << logged;
}

// RET=HDRS: the sender wants headers only: no picture, none asked for.
TEST(FaxReportThumbnail, RetHeadersOnlyGetsNoPicture) {
  KeepingConnector connector;
  connector.kept["job-1"] = png_of(400);
  Recorded recorded = record(connector, {sent()}, "hdrs", DsnReturn::headers);
  ASSERT_EQ(recorded.dsns.size(), 1u);
  EXPECT_EQ(recorded.dsns[0].find("image/png"), std::string::npos) << recorded.dsns[0];
  EXPECT_TRUE(connector.asked.empty());
  EXPECT_EQ(connector.written, std::vector<std::string>{"job-1"});
}

// The fax connector's side with its store down: the report goes at once,
// without the picture.
class StoreConnector final : public connectors::Connector {
 public:
  explicit StoreConnector(fax::ReportThumbnails& thumbnails) : thumbnails_(thumbnails) {}
  void deliver(connectors::DeliveryRequest, connectors::DeliveryDone done) override { done({}); }
  std::optional<ReportAttachment> report_attachment(const std::string& reference) override {
    return thumbnails_.attachment(reference);
  }
  void report_written(const std::string& reference) override { thumbnails_.written(reference); }

 private:
  fax::ReportThumbnails& thumbnails_;
};

TEST(FaxReportThumbnail, AStoreErrorStillSendsTheReport) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto real = db.open();
  ASSERT_TRUE(real);
  auto flaky = std::make_shared<test::FlakyDatabase>(real);
  fax::ThumbnailSettings on;
  on.enabled = true;
  fax::ReportThumbnails thumbnails("fax", on);
  thumbnails.attach(flaky);
  auto store = fax::ThumbnailStore::open(real);
  ASSERT_TRUE((*store)->put("fax", {{"job-1", "+4930123450", png_of(40)}}, unix_now()));
  StoreConnector connector(thumbnails);
  flaky->down = true;
  Recorded recorded = record(connector, {sent(), sent()}, "down");
  ASSERT_EQ(recorded.dsns.size(), 1u);
  EXPECT_NE(recorded.dsns[0].find("Subject: Your fax was sent\r\n"), std::string::npos);
  EXPECT_EQ(recorded.dsns[0].find("image/png"), std::string::npos) << recorded.dsns[0];
  EXPECT_EQ(flaky->count("SELECT png"), 1u) << "the second recipient did not ask again";

  flaky->down = false;
  recorded = record(connector, {sent()}, "up");
  ASSERT_EQ(recorded.dsns.size(), 1u);
  EXPECT_EQ(recorded.dsns[0].find("image/png"), std::string::npos)
      << "still paused: kStorePause has not passed";
}

// A success report that could not be placed keeps its thumbnail (the
// purge takes it later); a placed one releases it.
TEST(FaxReportThumbnail, AReportThatCouldNotBePlacedKeepsItsThumbnail) {
  KeepingConnector connector;
  connector.kept["job-1"] = png_of(400);
  Recorded recorded = record(connector, {sent()}, "unplaced", DsnReturn::unspecified, true);
  EXPECT_TRUE(recorded.dsns.empty());
  EXPECT_EQ(connector.asked, std::vector<std::string>{"job-1"});
  EXPECT_TRUE(connector.written.empty()) << connector.written.front();
}
