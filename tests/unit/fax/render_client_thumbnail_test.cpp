// Page one's thumbnail from the real render helper (report_thumbnail):
// its size and aspect, none unless asked for, and a thumbnail that cannot
// be drawn, which leaves the fax as it is (thumbnail=failed in the
// helper's report, named in thumbnail_failure).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>

#include "render/thumbnail.hpp"
#include "tests/unit/fax/render_client_fixture.hpp"
#include "tests/unit/fax/tiff_test_files.hpp"

namespace bh::connectors::fax {
namespace {

namespace fs = std::filesystem;
using render_test::FaxRenderClient;
using render_test::head;
using render_test::kPlainMail;

// Width and height from a PNG's IHDR chunk (big-endian, at bytes 16 and 20).
std::pair<long, long> png_size(const std::string& png) {
  auto be32 = [&](std::size_t at) {
    long v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v * 256 + static_cast<unsigned char>(png.at(at + i));
    return v;
  };
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  return {be32(16), be32(20)};
}

// The thumbnail is as wide as asked, and as high as page one's real aspect
// (1728 x 2292 pels of A4 at 204 x 196 dpi, or 1146 lines at 98 dpi).
TEST_F(FaxRenderClient, TheThumbnailHasTheWidthAskedAndThePagesAspect) {
  job_.thumbnail = dir_ / "thumb.png";
  job_.thumbnail_width = 240;
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_TRUE(outcome.thumbnail);
  auto [width, height] = png_size(head(job_.thumbnail, 64));
  EXPECT_EQ(width, 240);
  EXPECT_EQ(height, std::lround(2292.0 * 240 / 1728 * 204 / 196));

  job_.options.format.resolution = render::Resolution::normal;
  job_.thumbnail_width = 100;
  outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  std::tie(width, height) = png_size(head(job_.thumbnail, 64));
  EXPECT_EQ(width, 100);
  EXPECT_EQ(height, std::lround(1146.0 * 100 / 1728 * 204 / 98));
}

// No thumbnail asked for: none written, and the fax is the same.
TEST_F(FaxRenderClient, NoThumbnailUnlessAsked) {
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_FALSE(outcome.thumbnail);
  EXPECT_FALSE(fs::exists(dir_ / "thumb.png"));
}

TEST_F(FaxRenderClient, APlainMailBecomesATiffAndAThumbnail) {
  job_.thumbnail = dir_ / "thumb.png";
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_EQ(outcome.pages, 1);
  EXPECT_EQ(outcome.document_pages, 1);
  EXPECT_EQ(head(job_.output, 4), std::string("II*\0", 4));
  EXPECT_EQ(head(job_.thumbnail, 8), "\x89PNG\r\n\x1a\n");
  // The gateway's copy, not the helper's file.
  struct stat st {};
  ASSERT_EQ(::stat(job_.output.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

// A thumbnail the helper cannot draw (here a width outside 100..800,
// which the configuration would refuse) is no reason to fail the fax: it
// renders as without one, the helper's PNG is gone, and why is said.
TEST_F(FaxRenderClient, AThumbnailThatCannotBeDrawnLeavesTheFax) {
  job_.thumbnail = dir_ / "thumb.png";
  job_.thumbnail_width = 50;
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_EQ(outcome.pages, 1);
  EXPECT_EQ(head(job_.output, 4), std::string("II*\0", 4));
  EXPECT_FALSE(outcome.thumbnail);
  EXPECT_FALSE(fs::exists(job_.thumbnail));
  EXPECT_NE(outcome.thumbnail_failure.find("the render helper could not draw it: a thumbnail is "
                                           "100 to 800 pixels wide, not 50"),
            std::string::npos)
      << outcome.thumbnail_failure;
}

// One the gateway cannot take over (a stand-in helper hands back a true
// one-page TIFF and a thumbnail larger than render::kMaxThumbnailBytes):
// the same.
TEST_F(FaxRenderClient, AThumbnailTooLargeToTakeOverLeavesTheFax) {
  job_.thumbnail = dir_ / "thumb.png";
  std::string octal;
  for (unsigned char c : test::make_tiff({false, {1728}})) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\%03o", c);
    octal += escaped;
  }
  helper_.program =
      stand_in("printf 'result=ok\\npages=1\\ndocument_pages=1\\n'; printf '" + octal +
               "' > \"$3\"\nout=''; prev=''; for a in \"$@\"; do\n"
               "  [ \"$prev\" = --thumbnail ] && out=\"$a\"; prev=\"$a\"; done\n"
               // 2 MiB of x (only the shell's builtins: the sandbox runs nothing else).
               "s=x; i=0; while [ $i -lt 21 ]; do s=\"$s$s\"; i=$((i+1)); done\n"
               "printf '%s' \"$s\" > \"$out\"");
  static_assert(render::kMaxThumbnailBytes < (1u << 21));
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_FALSE(outcome.thumbnail);
  EXPECT_FALSE(fs::exists(job_.thumbnail));
  EXPECT_NE(outcome.thumbnail_failure.find("cannot be taken over"), std::string::npos)
      << outcome.thumbnail_failure;
}

}  // namespace
}  // namespace bh::connectors::fax
