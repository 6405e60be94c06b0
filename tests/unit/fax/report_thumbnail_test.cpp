// Page one's thumbnail in the fax success report (report_thumbnail): the
// shared store that keeps it from the submission to the report (both
// backends), its pause after a failure, the settings, and the fax
// connector's side (what the report asks for, the rows of written reports
// removed from the poll thread, the purge, the store opened again after it
// failed). record_outcome's side: report_thumbnail_outcome_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "connectors/fax/fax_connector.hpp"
#include "connectors/fax/fax_kind.hpp"
#include "connectors/fax/fax_report.hpp"
#include "connectors/fax/report_thumbnails.hpp"
#include "connectors/fax/thumbnail_store.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "scheduler/outcome.hpp"
#include "server/config.hpp"
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

class FaxThumbnailStore : public ::testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override { ASSERT_TRUE(db.ok()) << db.message(); }
  test::TestStore db{GetParam()};
};

fax::KeptThumbnail kept(std::string reference, std::string png, std::string number = {}) {
  return {std::move(reference), std::move(number), std::move(png)};
}

TEST_P(FaxThumbnailStore, KeepsReplacesRemovesAndPurges) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  // Bytes of every value (a NUL included) survive the base64 column.
  std::string png = png_of(300);
  for (std::size_t i = 16; i < png.size(); ++i) png[i] = static_cast<char>(i % 256);
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png, "+4930123456")}, 100));
  ASSERT_TRUE((*store)->put("fax", {kept("job-2", png_of(50)), kept("job-3", png_of(55))}, 200));
  ASSERT_TRUE((*store)->put("other", {kept("job-1", png_of(60))}, 100));
  auto one = (*store)->get("fax", "job-1");
  ASSERT_TRUE(one && one->has_value()) << (one ? "none" : one.error().message);
  EXPECT_EQ((*one)->png, png);
  EXPECT_EQ((*one)->number, "+4930123456");
  EXPECT_EQ((*(*store)->get("other", "job-1"))->png, png_of(60));
  EXPECT_FALSE((*(*store)->get("fax", "job-9")).has_value());
  EXPECT_TRUE(*(*store)->any("fax"));
  EXPECT_FALSE(*(*store)->any("nobody"));

  // A retry that found its job renders again: the new one replaces it.
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(70, 'y'))}, 150));
  EXPECT_EQ((*(*store)->get("fax", "job-1"))->png, png_of(70, 'y'));

  ASSERT_TRUE((*store)->remove("fax", {"job-2", "job-3", "job-9"}));
  EXPECT_FALSE((*(*store)->get("fax", "job-2")).has_value());
  EXPECT_FALSE((*(*store)->get("fax", "job-3")).has_value());
  ASSERT_TRUE((*store)->remove("fax", {"job-2"}));  // again: nothing to do
  ASSERT_TRUE((*store)->remove("fax", {}));

  // One connector's max age purges its own rows only: other/job-1 (100) is
  // older, but another connector's (or node's) max age is not this one's.
  auto purged = (*store)->purge("fax", 151, 200);  // fax/job-1 (150) goes
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE((*(*store)->get("fax", "job-1")).has_value());
  EXPECT_TRUE((*(*store)->get("other", "job-1")).has_value());
  // Past the longest age any connector may keep one, any connector's goes.
  const std::int64_t longest = fax::kLongestThumbnailAge.count();
  purged = (*store)->purge("fax", 0, 100 + longest);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 0) << "not older than the longest age yet";
  purged = (*store)->purge("fax", 0, 101 + longest);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE((*(*store)->get("other", "job-1")).has_value());

  // More references than one statement names.
  std::vector<fax::KeptThumbnail> many;
  std::vector<std::string> references;
  for (std::size_t i = 0; i < fax::kMaxReferencesPerStatement + 5; ++i) {
    references.push_back("many-" + std::to_string(i));
    many.push_back(kept(references.back(), png_of(30)));
  }
  ASSERT_TRUE((*store)->put("fax", many, 300));
  ASSERT_TRUE((*store)->remove("fax", references));
  EXPECT_FALSE(*(*store)->any("fax"));

  // Opened again (another node, a restart): the same table.
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(40))}, 400));
  auto again = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*(*again)->get("fax", "job-1")).has_value());
}

TEST_P(FaxThumbnailStore, RefusesWhatIsNotAPng) {
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE((*store)->put("fax", {kept("job-1", "GIF89a not a png at all, no")}, 1));
  EXPECT_FALSE((*store)->put("fax", {kept("job-1", png_of(render::kMaxThumbnailBytes + 1))}, 1));
  EXPECT_FALSE(*(*store)->any("fax")) << "nothing of a refused batch is kept";
  EXPECT_TRUE((*store)->put("fax", {kept("job-1", png_of(render::kMaxThumbnailBytes))}, 1));
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
// named by the number it went to.
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
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(100), "+4930123456")}, unix_now()));
  auto attachment = (*connector)->report_attachment("job-1");
  ASSERT_TRUE(attachment);
  EXPECT_EQ(attachment->content_type, "image/png");
  EXPECT_EQ(attachment->filename, "page1-4930123456.png");
  EXPECT_EQ(attachment->description, "page one of the fax to +49 30 123456");
  EXPECT_EQ(attachment->bytes, png_of(100));
  EXPECT_FALSE((*connector)->report_attachment("job-2")) << "none kept for that job";
  (*connector)->stop();
  std::filesystem::remove_all(s.work_directory);
}

}  // namespace

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
  EXPECT_EQ(error_of("success_notice = \"report\"\nreport_thumbnail = true\n"
                     "report_thumbnail_width = 800\n"),
            "(no error)");
  // A width without the picture would do nothing.
  EXPECT_NE(error_of("report_thumbnail_width = 800\n")
                .find("gw.toml:18: connector[0].report_thumbnail_width: is for "
                      "report_thumbnail = true"),
            std::string::npos)
      << error_of("report_thumbnail_width = 800\n");
}

namespace {

fax::ThumbnailSettings thumbnails_on() {
  fax::ThumbnailSettings t;
  t.enabled = true;
  t.max_age = std::chrono::seconds(1000);
  return t;
}

}  // namespace

// A written report's row goes from the poll thread (maintain), not from
// the scheduler's; the purge takes this connector's old rows, and keeps
// another connector's younger than the longest age.
TEST(FaxReportThumbnail, WrittenRowsGoAtMaintainAndThePurgeIsPerConnector) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto database = db.open();
  ASSERT_TRUE(database);
  auto store = fax::ThumbnailStore::open(database);
  ASSERT_TRUE(store);
  const std::int64_t now = unix_now();
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(40)), kept("job-2", png_of(41))}, now));
  ASSERT_TRUE((*store)->put("fax", {kept("old", png_of(42))}, now - 1001));
  ASSERT_TRUE((*store)->put("other", {kept("old", png_of(43))}, now - 1001));
  fax::ReportThumbnails thumbnails("fax", thumbnails_on());
  thumbnails.attach(database);
  ASSERT_TRUE(thumbnails.attachment("job-1"));
  thumbnails.written("job-1");
  EXPECT_TRUE((*(*store)->get("fax", "job-1")).has_value()) << "removed at maintain only";
  thumbnails.maintain(now);
  EXPECT_FALSE((*(*store)->get("fax", "job-1")).has_value());
  EXPECT_TRUE((*(*store)->get("fax", "job-2")).has_value());
  EXPECT_FALSE((*(*store)->get("fax", "old")).has_value()) << "past this connector's max age";
  EXPECT_TRUE((*(*store)->get("other", "old")).has_value()) << "another connector's row";
}

// After a store error the store is not asked for kStorePause: a report
// goes at once without its picture; then it is asked again.
TEST(FaxReportThumbnail, AStoreThatFailedIsLeftAloneForAWhile) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto real = db.open();
  ASSERT_TRUE(real);
  auto flaky = std::make_shared<test::FlakyDatabase>(real);
  std::int64_t clock = 1000;
  fax::ReportThumbnails thumbnails("fax", thumbnails_on(), [&] { return clock; });
  thumbnails.attach(flaky);
  auto store = fax::ThumbnailStore::open(real);
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(40))}, unix_now()));
  flaky->down = true;
  EXPECT_FALSE(thumbnails.attachment("job-1"));
  const std::size_t asked = flaky->asked().size();
  EXPECT_FALSE(thumbnails.attachment("job-1"));
  clock += fax::kStorePause.count() - 1;
  flaky->down = false;
  EXPECT_FALSE(thumbnails.attachment("job-1"));
  auto submissions = thumbnails.for_submissions();
  ASSERT_TRUE(submissions);
  EXPECT_FALSE(submissions->put("fax", {kept("job-2", png_of(40))}, unix_now()));
  EXPECT_EQ(flaky->asked().size(), asked) << "no statement while paused";
  clock += 1;
  EXPECT_TRUE(thumbnails.attachment("job-1"));
  EXPECT_EQ(flaky->asked().size(), asked + 1);
}

// With report_thumbnail off and nothing kept from before, a report asks
// the store nothing; with rows kept from before, it does.
TEST(FaxReportThumbnail, OffWithNothingKeptAsksNothing) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto real = db.open();
  ASSERT_TRUE(real);
  auto flaky = std::make_shared<test::FlakyDatabase>(real);
  fax::ReportThumbnails off("fax", fax::ThumbnailSettings{});
  off.attach(flaky);
  const std::size_t asked = flaky->asked().size();
  EXPECT_FALSE(off.attachment("job-1"));
  off.written("job-1");
  EXPECT_FALSE(off.for_submissions());
  EXPECT_EQ(flaky->asked().size(), asked);
  off.maintain(unix_now());
  EXPECT_EQ(flaky->count("fax_thumbnails WHERE connector = $1 AND reference"), 0u);

  auto store = fax::ThumbnailStore::open(real);
  ASSERT_TRUE((*store)->put("fax", {kept("job-1", png_of(40))}, unix_now()));
  fax::ReportThumbnails turned_off("fax", fax::ThumbnailSettings{});
  turned_off.attach(flaky);  // rows from when it was on: their reports get them
  EXPECT_TRUE(turned_off.attachment("job-1"));
  EXPECT_FALSE(turned_off.for_submissions());
}

// A store that cannot be opened (its migration fails) is tried again
// every 300 s from maintain.
TEST(FaxReportThumbnail, MaintainOpensAStoreThatCouldNotBeOpened) {
  test::TestStore db{store::Backend::sqlite};
  ASSERT_TRUE(db.ok()) << db.message();
  auto real = db.open();
  ASSERT_TRUE(real);
  auto flaky = std::make_shared<test::FlakyDatabase>(real);
  flaky->down = true;
  fax::ReportThumbnails thumbnails("fax", thumbnails_on());
  thumbnails.attach(flaky);
  EXPECT_FALSE(thumbnails.for_submissions());
  flaky->down = false;
  const std::int64_t now = unix_now();
  thumbnails.maintain(now + 10);
  EXPECT_FALSE(thumbnails.for_submissions()) << "not before 300 s";
  thumbnails.maintain(now + 300);
  auto store = thumbnails.for_submissions();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("fax", {kept("job-1", png_of(40))}, now));
  EXPECT_TRUE(thumbnails.attachment("job-1"));
}
