#include "connectors/fax/spool_backend.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "connectors/fax/fax_report.hpp"

namespace fax = bh::connectors::fax;
namespace fs = std::filesystem;

namespace {

class FaxSpoolBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("bh-fax-spool-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "work");
    settings_.directory = root_ / "spool";
  }
  void TearDown() override { fs::remove_all(root_); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  fs::path root_;
  fax::SpoolSettings settings_;
};

}  // namespace

TEST_F(FaxSpoolBackend, SubmitWritesTiffThenJobFile) {
  auto backend = fax::SpoolBackend::open(settings_, "fax");
  ASSERT_TRUE(backend) << backend.error().message;
  fs::path tiff = root_ / "work" / "q.0.tif";
  write(tiff, "II*\0fake tiff");
  fax::FaxSubmission submission{"+4930123456",     tiff,  3, {}, "00065A.2.0",
                                "ann@example.com", "1387"};
  auto submitted = (*backend)->submit(submission);
  ASSERT_TRUE(std::holds_alternative<fax::Submitted>(submitted));
  std::string reference = std::get<fax::Submitted>(submitted).reference;
  EXPECT_EQ(reference, "00065A.2.0") << "the job's name is its tag";
  EXPECT_FALSE(fs::exists(tiff));  // moved, not copied
  EXPECT_EQ(read(settings_.directory / "outgoing" / (reference + ".tif")), "II*\0fake tiff");
  boost::json::value job =
      boost::json::parse(read(settings_.directory / "outgoing" / (reference + ".json")));
  EXPECT_EQ(job.at("number").as_string(), "+4930123456");
  EXPECT_EQ(job.at("reference").as_string(), reference);
  EXPECT_EQ(job.at("pages").as_int64(), 3);
  EXPECT_EQ(job.at("paper").as_string(), "a4");
  EXPECT_EQ(job.at("resolution").as_string(), "fine");
  EXPECT_EQ(job.at("compression").as_string(), "g4");
  EXPECT_EQ(job.at("tag").as_string(), "00065A.2.0");
  EXPECT_EQ(job.at("sender").as_string(), "ann@example.com");
  EXPECT_EQ(job.at("subaddress").as_string(), "1387");
  EXPECT_GT(job.at("submitted_at").as_int64(), 0);
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(settings_.directory / "outgoing"))
    EXPECT_NE(entry.path().filename().string().front(), '.') << entry.path();

  // Another recipient (another tag) is another job.
  write(tiff, "x");
  submission.tag = "00065A.2.1";
  auto other = (*backend)->submit(submission);
  ASSERT_TRUE(std::holds_alternative<fax::Submitted>(other));
  EXPECT_EQ(std::get<fax::Submitted>(other).reference, "00065A.2.1");
}

TEST_F(FaxSpoolBackend, TheSameTagIsOneJobWhereverThePickerHasIt) {
  auto backend = fax::SpoolBackend::open(settings_, "fax");
  ASSERT_TRUE(backend) << backend.error().message;
  fs::path tiff = root_ / "work" / "q.0.tif";
  fs::path outgoing = settings_.directory / "outgoing";
  fax::FaxSubmission submission{"+4930123456", tiff, 1, {}, "00065A.2.0", "ann@example.com"};
  write(tiff, "first");
  auto first = (*backend)->submit(submission);
  ASSERT_TRUE(std::holds_alternative<fax::Submitted>(first));
  std::string reference = std::get<fax::Submitted>(first).reference;
  std::string job = read(outgoing / (reference + ".json"));

  // A retry (the first result was lost): the job waiting in outgoing/ is it.
  write(tiff, "second");
  auto again = (*backend)->submit(submission);
  ASSERT_TRUE(std::holds_alternative<fax::Submitted>(again));
  EXPECT_EQ(std::get<fax::Submitted>(again).reference, reference);
  EXPECT_EQ(read(outgoing / (reference + ".tif")), "first") << "nothing is written again";
  EXPECT_EQ(read(outgoing / (reference + ".json")), job);
  EXPECT_EQ(read(tiff), "second") << "the retry's TIFF is left to the caller's work files";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(outgoing)) files += entry.is_regular_file();
  EXPECT_EQ(files, 2u);

  // The picker has moved it to taken/, then written the result: still found.
  for (const char* from_to : {"taken", "results"}) {
    fs::path folder = settings_.directory / from_to;
    for (const auto& entry : fs::directory_iterator(outgoing))
      if (entry.is_regular_file()) fs::rename(entry.path(), folder / entry.path().filename());
    auto found = (*backend)->submit(submission);
    ASSERT_TRUE(std::holds_alternative<fax::Submitted>(found)) << from_to;
    EXPECT_EQ(std::get<fax::Submitted>(found).reference, reference) << from_to;
    EXPECT_TRUE(fs::is_empty(outgoing)) << from_to << ": no second job";
    if (std::string(from_to) == "taken")
      for (const auto& entry : fs::directory_iterator(folder))
        fs::rename(entry.path(), outgoing / entry.path().filename());
  }
}

TEST_F(FaxSpoolBackend, AHalfWrittenJobOfACrashedAttemptIsReplaced) {
  auto backend = fax::SpoolBackend::open(settings_, "fax");
  ASSERT_TRUE(backend) << backend.error().message;
  fs::path outgoing = settings_.directory / "outgoing";
  write(outgoing / "00065A.2.0.tif", "partial");  // the crash came before the JSON
  fs::path tiff = root_ / "work" / "q.0.tif";
  write(tiff, "complete");
  fax::FaxSubmission submission{"+4930123456", tiff, 1, {}, "00065A.2.0", "ann@example.com"};
  auto submitted = (*backend)->submit(submission);
  ASSERT_TRUE(std::holds_alternative<fax::Submitted>(submitted));
  EXPECT_EQ(read(outgoing / "00065A.2.0.tif"), "complete");
  EXPECT_TRUE(fs::exists(outgoing / "00065A.2.0.json"));
}

TEST_F(FaxSpoolBackend, ResultsAreReportedUntilForgotten) {
  auto backend = fax::SpoolBackend::open(settings_, "fax");
  ASSERT_TRUE(backend);
  fs::path results = settings_.directory / "results";
  write(results / "a-1.json",
        R"({"reference": "a-1", "status": "sent", "text": "", "pages": 3, "csid": "+49 30 999",
            "duration": 41, "code": 0, "number": "+4930123456"})");
  write(results / "b-2.json",
        R"({"reference": "b-2", "status": "failed", "text": "Busy signal detected", "pages": 0,
            "code": 1})");
  write(results / "c-3.json", R"({"reference": "c-3", "status": "maybe"})");
  write(results / "d-4.json", "not json");
  write(results / ".e-5.json.tmp", "{");
  auto reports = (*backend)->finished();
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  std::map<std::string, fax::FaxJobReport> by_reference;
  for (const auto& r : *reports) by_reference[r.reference] = r;
  const fax::FaxJobReport& sent = by_reference.at("a-1");
  EXPECT_TRUE(sent.sent);
  EXPECT_EQ(sent.pages_sent, 3);
  EXPECT_EQ(sent.pages_total, 3);
  EXPECT_EQ(sent.remote_csid, "+49 30 999");
  EXPECT_EQ(sent.number, "+4930123456");
  EXPECT_EQ(sent.duration.count(), 41);
  const fax::FaxJobReport& failed = by_reference.at("b-2");
  EXPECT_FALSE(failed.sent);
  EXPECT_EQ(failed.status_text, "Busy signal detected");
  EXPECT_EQ(failed.status_code, 1);
  // Malformed files are moved aside, not ignored and not reported again.
  EXPECT_TRUE(fs::exists(results / "bad" / "c-3.json"));
  EXPECT_TRUE(fs::exists(results / "bad" / "d-4.json"));
  EXPECT_FALSE(fs::exists(results / "c-3.json"));
  EXPECT_TRUE(fs::exists(results / ".e-5.json.tmp"));  // a writer's temporary: left alone

  ASSERT_TRUE((*backend)->forget("a-1"));
  reports = (*backend)->finished();
  ASSERT_TRUE(reports);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(reports->front().reference, "b-2");
  EXPECT_TRUE((*backend)->forget("gone"));  // forgetting twice is fine
}

TEST(FaxSpoolResult, RefusesWhatIsNotAResult) {
  EXPECT_TRUE(fax::parse_spool_result(R"({"reference": "r", "status": "failed"})", "r"));
  for (std::string text :
       {R"([])", R"({"status": "sent"})", R"({"reference": "x", "status": "sent"})",
        R"({"reference": "r", "status": "sent", "pages": -1})",
        R"({"reference": "r", "status": "sent", "pages": "3"})",
        R"({"reference": "r", "status": 1})", R"({"reference": "r"})"})
    EXPECT_FALSE(fax::parse_spool_result(text, "r")) << text;
  EXPECT_EQ(fax::spool_reference("../x/y").find('/'), std::string::npos);
  EXPECT_NE(fax::spool_reference("../x").front(), '.');
  EXPECT_EQ(fax::spool_reference("00065A.2.0"), fax::spool_reference("00065A.2.0"));
}

TEST(FaxReport, FinishedJobsBecomeFinalResults) {
  fax::FaxJobReport sent;
  sent.reference = "r";
  sent.number = "+4930123456";
  sent.sent = true;
  sent.pages_sent = sent.pages_total = 3;
  sent.duration = std::chrono::seconds(41);
  sent.remote_csid = "+49 30 999";
  auto result = fax::result_of_report(sent, fax::SuccessNotice::dsn, "hylafax 127.0.0.1:4559");
  EXPECT_EQ(result.outcome, bh::connectors::Outcome::delivered);
  EXPECT_EQ(result.status, "2.0.0");
  EXPECT_EQ(result.diagnostic,
            "fax to +49 30 123456 was sent: 3 of 3 pages in 41 s, remote station \"+49 30 999\"");
  EXPECT_EQ(result.success_action, "delivered");
  EXPECT_FALSE(result.report);
  EXPECT_TRUE(fax::result_of_report(sent, fax::SuccessNotice::report, "s").report);

  fax::FaxJobReport failed;
  failed.reference = "r";
  failed.status_text = "Kill time expired";
  failed.status_code = 325;
  failed.pages_total = 2;
  result = fax::result_of_report(failed, fax::SuccessNotice::report, "hylafax h:4559");
  EXPECT_EQ(result.outcome, bh::connectors::Outcome::bounced);
  EXPECT_EQ(result.status, "5.4.7");
  EXPECT_EQ(result.diagnostic,
            "fax failed at hylafax h:4559: Kill time expired (status 325), 0 of 2 pages sent");
  EXPECT_FALSE(result.report);
  EXPECT_EQ(fax::failed_job_status(1), "5.4.0");    // busy
  EXPECT_EQ(fax::failed_job_status(100), "5.4.0");  // T.30 failure
  EXPECT_EQ(fax::failed_job_status(327), "5.1.3");
  EXPECT_EQ(fax::failed_job_status(317), "5.3.0");
  EXPECT_EQ(fax::failed_job_status(410), "5.3.0");
  EXPECT_EQ(fax::failed_job_status(-1), "5.3.0");
}
