// connectors/fax/tiff_pages: the gateway's own page count of the render
// helper's TIFF, against TIFFs the real helper makes and malformed ones.
#include "connectors/fax/tiff_pages.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/fax/render_client.hpp"
#include "tests/unit/fax/tiff_test_files.hpp"

namespace bh::connectors::fax {
namespace {

namespace fs = std::filesystem;
using test::make_tiff;
using test::TiffLayout;

class FaxTiffPages : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "bh-tiff-pages-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path write(const std::string& bytes, const std::string& name = "fax.tif") {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string count_error(const std::string& bytes, int max_pages = 10) {
    auto counted = count_fax_pages(write(bytes), max_pages);
    return counted ? "counted " + std::to_string(counted.value()) : counted.error().message;
  }
  // A text mail of about `lines` lines, rendered by the real helper.
  fs::path render_text(int lines, int& reported_pages) {
    std::string mail =
        "From: a@b.example\r\nTo: +4930123456@fax.example.com\r\nSubject: pages\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    for (int i = 0; i < lines; ++i) mail += "line " + std::to_string(i) + "\r\n";
    RenderHelper helper;
    helper.program = BH_RENDER_HELPER;
    FaxRenderJob job;
    job.message = write(mail, "mail.eml");
    job.output = dir_ / "rendered.tif";
    FaxRenderOutcome outcome = render_mail_to_fax(helper, job);
    EXPECT_TRUE(outcome.ok) << outcome.failure.text;
    reported_pages = outcome.pages;
    return job.output;
  }
  fs::path dir_;
};

TEST_F(FaxTiffPages, CountsTheHelpersPages) {
  for (int lines : {5, 150}) {
    int reported = 0;
    const fs::path tiff = render_text(lines, reported);
    auto counted = count_fax_pages(tiff, 100);
    ASSERT_TRUE(counted.ok()) << counted.error().message;
    EXPECT_EQ(counted.value(), reported) << lines << " lines";
    EXPECT_GE(counted.value(), lines > 100 ? 2 : 1);
  }
}

TEST_F(FaxTiffPages, ATruncatedHelperTiffIsRefused) {
  int reported = 0;
  const fs::path tiff = render_text(150, reported);
  ASSERT_GE(reported, 2);
  std::ifstream in(tiff, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  // libtiff writes each page's directory after its image data: the first
  // half of the file lacks the last directory.
  auto counted = count_fax_pages(write(bytes.substr(0, bytes.size() / 2), "half.tif"), 100);
  EXPECT_FALSE(counted.ok());
}

TEST_F(FaxTiffPages, BothByteOrders) {
  EXPECT_EQ(count_error(make_tiff({false, {1728, 1728, 1728}})), "counted 3");
  EXPECT_EQ(count_error(make_tiff({true, {1728, 1728}})), "counted 2");
}

TEST_F(FaxTiffPages, MorePagesThanAllowedAreNamed) {
  EXPECT_EQ(count_error(make_tiff({false, std::vector<std::uint32_t>(5, 1728)}), 5), "counted 5");
  EXPECT_EQ(count_error(make_tiff({false, std::vector<std::uint32_t>(6, 1728)}), 5),
            "more than 5 pages");
}

TEST_F(FaxTiffPages, ALoopOfDirectoriesIsRefused) {
  EXPECT_EQ(count_error(make_tiff({false, {1728, 1728}, 8}), 100),
            "the TIFF's directories form a loop");
  // A directory that names itself.
  EXPECT_EQ(count_error(make_tiff({false, {1728}, 8}), 100), "the TIFF's directories form a loop");
}

TEST_F(FaxTiffPages, AWidthOtherThanAFaxPageIsRefused) {
  EXPECT_EQ(count_error(make_tiff({false, {1728, 2048}})), "page 2 is 2048 pels wide, not 1728");
}

TEST_F(FaxTiffPages, TruncatedOrForeignFilesAreRefused) {
  const std::string good = make_tiff({false, {1728, 1728}});
  EXPECT_EQ(count_error(good.substr(0, good.size() - 2)), "a truncated TIFF directory");
  EXPECT_EQ(count_error(good.substr(0, 12)), "a truncated TIFF directory");
  EXPECT_EQ(count_error(good.substr(0, 3)), "shorter than a TIFF header");
  EXPECT_EQ(count_error(good.substr(0, 6)), "a truncated TIFF header");
  EXPECT_EQ(count_error("%PDF-1.4\n"), "not a TIFF (no II or MM byte order)");
  std::string big = good;
  big[2] = 43;  // BigTIFF
  EXPECT_EQ(count_error(big), "not a classic TIFF (no 42)");
  std::string far = good;
  far[4] = '\xff';
  far[5] = '\xff';
  EXPECT_EQ(count_error(far), "a TIFF directory past the end of the file");
  std::string no_pages = good.substr(0, 8);
  no_pages[4] = 0;
  no_pages[5] = 0;
  no_pages[6] = 0;
  no_pages[7] = 0;
  EXPECT_EQ(count_error(no_pages), "a TIFF without pages");
  std::string huge = good;
  huge[8] = '\xff';
  huge[9] = '\xff';
  EXPECT_EQ(count_error(huge), "a TIFF directory with 65535 entries");
}

TEST_F(FaxTiffPages, OnlyARegularFile) {
  const fs::path link = dir_ / "link.tif";
  fs::create_symlink(write(make_tiff({})), link);
  EXPECT_FALSE(count_fax_pages(link, 10).ok());
  EXPECT_FALSE(count_fax_pages(dir_, 10).ok());
}

}  // namespace
}  // namespace bh::connectors::fax
