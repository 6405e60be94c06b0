// Page one's thumbnail in the fax success report (report_thumbnail): the
// shared store that keeps it from the submission to the report (both
// backends), the settings, the fax connector's side (what the report asks
// for, dropped once written), and record_outcome, which asks the connector
// of each final pending recipient when it writes the success report and
// lets it drop the thumbnail afterwards; a failure DSN never carries one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "connectors/fax/fax_connector.hpp"
#include "connectors/fax/fax_kind.hpp"
#include "connectors/fax/fax_report.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "server/config.hpp"
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

class FaxThumbnailStore : public ::testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override { ASSERT_TRUE(db.ok()) << db.message(); }
  test::TestStore db{GetParam()};
};

TEST_P(FaxThumbnailStore, KeepsReplacesRemovesAndPurges) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  // Bytes of every value (a NUL included) survive the base64 column.
  std::string png = png_of(300);
  for (std::size_t i = 16; i < png.size(); ++i) png[i] = static_cast<char>(i % 256);
  ASSERT_TRUE((*store)->put("fax", "job-1", png, 100));
  ASSERT_TRUE((*store)->put("fax", "job-2", png_of(50), 200));
  ASSERT_TRUE((*store)->put("other", "job-1", png_of(60), 100));
  auto one = (*store)->get("fax", "job-1");
  ASSERT_TRUE(one && one->has_value()) << (one ? "none" : one.error().message);
  EXPECT_EQ(**one, png);
  EXPECT_EQ(*(*(*store)->get("other", "job-1")), png_of(60));
  EXPECT_FALSE((*(*store)->get("fax", "job-9")).has_value());

  // A retry that found its job renders again: the new one replaces it.
  ASSERT_TRUE((*store)->put("fax", "job-1", png_of(70, 'y'), 150));
  EXPECT_EQ(*(*(*store)->get("fax", "job-1")), png_of(70, 'y'));

  ASSERT_TRUE((*store)->remove("fax", "job-2"));
  EXPECT_FALSE((*(*store)->get("fax", "job-2")).has_value());
  ASSERT_TRUE((*store)->remove("fax", "job-2"));  // again: nothing to do

  auto purged = (*store)->purge(150);  // other/job-1 (100) goes; fax/job-1 (150) stays
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE((*(*store)->get("other", "job-1")).has_value());
  EXPECT_TRUE((*(*store)->get("fax", "job-1")).has_value());

  // Opened again (another node, a restart): the same table.
  auto again = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*(*again)->get("fax", "job-1")).has_value());
}

TEST_P(FaxThumbnailStore, RefusesWhatIsNotAPng) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE((*store)->put("fax", "job-1", "GIF89a not a png at all, no", 1));
  EXPECT_FALSE((*store)->put("fax", "job-1", png_of(render::kMaxThumbnailBytes + 1), 1));
  EXPECT_TRUE((*store)->put("fax", "job-1", png_of(render::kMaxThumbnailBytes), 1));
  // What another writer left in the table is checked when it is read.
  ASSERT_TRUE(database->execute("UPDATE fax_thumbnails SET png = 'bm90IGEgcG5n'", {}));
  auto bad = (*store)->get("fax", "job-1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not a PNG"), std::string::npos) << bad.error().message;
}

INSTANTIATE_TEST_SUITE_P(FaxStore, FaxThumbnailStore,
                         ::testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::backend_test_name);

// The fax connector hands the report what the store keeps for the job,
// and drops it once the report is written.
TEST(FaxReportThumbnail, TheConnectorAnswersFromTheSharedStore) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto database = db.open();
  ASSERT_TRUE(database);
  fax::FaxSettings s;
  s.name = "fax";
  s.backend = fax::Backend::spool;
  s.domains = {"fax.example.com"};
  s.work_directory =
      std::filesystem::temp_directory_path() / ("bh-fax-thumbnail-" + std::to_string(::getpid()));
  s.render.program = "/nonexistent/bridgehead-render";
  s.success_notice = fax::SuccessNotice::report;
  s.thumbnail.enabled = true;
  auto connector = fax::FaxConnector::create(s);
  ASSERT_TRUE(connector) << connector.error().message;
  EXPECT_FALSE((*connector)->report_attachment("job-1")) << "no store yet";
  (*connector)->attach_intake({nullptr, nullptr, database});
  auto store = fax::ThumbnailStore::open(database);  // as a submission on another node did
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->put("fax", "job-1", png_of(100), unix_now()));
  auto attachment = (*connector)->report_attachment("job-1");
  ASSERT_TRUE(attachment);
  EXPECT_EQ(attachment->content_type, "image/png");
  EXPECT_EQ(attachment->filename, "page1.png");
  EXPECT_EQ(attachment->bytes, png_of(100));
  EXPECT_FALSE((*connector)->report_attachment("job-2")) << "none kept for that job";
  (*connector)->report_written("job-1");
  EXPECT_FALSE((*(*store)->get("fax", "job-1")).has_value());
  EXPECT_FALSE((*connector)->report_attachment("job-1"));
  (*connector)->stop();
  std::filesystem::remove_all(s.work_directory);
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
Recorded record(KeepingConnector& connector,
                const std::vector<connectors::RecipientResult>& results, const std::string& name) {
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

namespace {

const std::string kFaxConfig = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["fax.example.com"]
connector = "fax"

[[connector]]
name = "fax"
type = "fax"
backend = "spool"
spool_directory = "/var/spool/fax"
domains = ["fax.example.com"]
)";

Result<Config> fax_config(const std::string& keys) {
  return parse_config(kFaxConfig + keys, "gw.toml");
}

}  // namespace

TEST(FaxReportThumbnail, SettingsAndTheirChecks) {
  auto config = fax_config("");
  ASSERT_TRUE(config) << config.error().message;
  const fax::FaxSettings* s = connectors::fax_settings(config->connectors.at(0).spec.get());
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->thumbnail.enabled);
  EXPECT_EQ(s->thumbnail.width_px, 300);
  EXPECT_EQ(s->thumbnail.max_age, std::chrono::seconds(86400) + fax::kThumbnailKeptPastTimeout);

  config = fax_config(
      "success_notice = \"report\"\nreport_thumbnail = true\nreport_thumbnail_width = 240\n"
      "pending_timeout = 3600\n");
  ASSERT_TRUE(config) << config.error().message;
  s = connectors::fax_settings(config->connectors.at(0).spec.get());
  EXPECT_TRUE(s->thumbnail.enabled);
  EXPECT_EQ(s->thumbnail.width_px, 240);
  EXPECT_EQ(s->thumbnail.max_age, std::chrono::seconds(3600) + fax::kThumbnailKeptPastTimeout);

  auto error_of = [](const std::string& keys) {
    auto c = fax_config(keys);
    return c ? std::string("(no error)") : c.error().message;
  };
  // The key table starts on line 12; the keys below it on line 18.
  EXPECT_NE(
      error_of("report_thumbnail = true\n")
          .find("gw.toml:18: connector[0].report_thumbnail: is for success_notice = \"report\""),
      std::string::npos)
      << error_of("report_thumbnail = true\n");
  for (const char* width : {"99", "801", "\"wide\""}) {
    std::string message = error_of(
        std::string("success_notice = \"report\"\nreport_thumbnail_width = ") + width + "\n");
    EXPECT_NE(
        message.find(
            "gw.toml:19: connector[0].report_thumbnail_width: must be an integer from 100 to 800"),
        std::string::npos)
        << message;
  }
  EXPECT_NE(error_of("report_thumbnail = \"yes\"\n")
                .find("connector[0].report_thumbnail: must be true or false"),
            std::string::npos);
  EXPECT_EQ(error_of("success_notice = \"report\"\nreport_thumbnail = true\n"
                     "report_thumbnail_width = 100\n"),
            "(no error)");
  EXPECT_EQ(error_of("report_thumbnail_width = 800\n"), "(no error)");
}
