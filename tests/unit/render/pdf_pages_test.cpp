#include "render/pdf_pages.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

using test::ink_bands;
using test::ink_columns;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(RenderPdfPages, RasterisesEveryPageScaledToTheFaxPage) {
  auto result = render_pdf_pages(test::make_pdf(3), PageFormat{}, PageBudget{50, 50}, "part 1");
  ASSERT_TRUE(std::holds_alternative<std::vector<Bitmap>>(result))
      << std::get<RenderFailure>(result).text;
  auto& pages = std::get<std::vector<Bitmap>>(result);
  ASSERT_EQ(pages.size(), 3u);
  for (int n = 1; n <= 3; ++n) {
    const Bitmap& page = pages[n - 1];
    EXPECT_EQ(page.width, 1728);
    EXPECT_EQ(page.height, 2292);
    // Page n has a black bar n/10 of its height at the top: A4 fills the
    // fax page's height (the A4 width is 1686 of 1728 px, centred).
    auto bands = ink_bands(page);
    ASSERT_EQ(bands.size(), 1u);
    EXPECT_LE(bands[0].first, 1);
    EXPECT_NEAR(bands[0].second, 2292 * n / 10.0, 4);
    auto [left, right] = ink_columns(page, 0, 10);
    EXPECT_NEAR(left, 21, 3);
    EXPECT_NEAR(right, 1706, 3);
  }
}

TEST(RenderPdfPages, LandscapePagesAreFittedKeepingTheAspectRatio) {
  auto result =
      render_pdf_pages(test::make_pdf(1, 842, 595), PageFormat{Paper::letter, Resolution::normal},
                       PageBudget{50, 50}, "part 1");
  ASSERT_TRUE(std::holds_alternative<std::vector<Bitmap>>(result));
  const Bitmap& page = std::get<std::vector<Bitmap>>(result).at(0);
  EXPECT_EQ(page.height, 1078);
  // 842 pt across become 1728 px: the scale is 609.9 / 842; the bar is
  // 59.5 pt high: 59.5 * 0.7244 pt at 98 lpi = 58.7 lines.
  auto bands = ink_bands(page);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_NEAR(bands[0].second, 58.7, 3);
  auto [left, right] = ink_columns(page, 0, 10);
  EXPECT_LE(left, 1);
  EXPECT_GE(right, 1726);
}

TEST(RenderPdfPages, CountsPagesBeforeRendering) {
  auto result = render_pdf_pages(test::make_pdf(5), PageFormat{}, PageBudget{4, 9}, "part 1");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(result));
  EXPECT_EQ(std::get<RenderFailure>(result).status, "5.3.4");
  EXPECT_NE(std::get<RenderFailure>(result).text.find("more than 9 pages"), std::string::npos);
}

TEST(RenderPdfPages, RefusesCorruptAndEncryptedPdfsNamingThePart) {
  auto corrupt = render_pdf_pages("%PDF-1.4\nnot really", PageFormat{}, PageBudget{},
                                  "part 2 (application/pdf, \"x.pdf\")");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(corrupt));
  EXPECT_EQ(std::get<RenderFailure>(corrupt).status, "5.6.1");
  EXPECT_EQ(std::get<RenderFailure>(corrupt).text.rfind(
                "part 2 (application/pdf, \"x.pdf\") cannot be faxed: the PDF cannot be read", 0),
            0u)
      << std::get<RenderFailure>(corrupt).text;

  std::string encrypted = read_file(std::string(BH_RENDER_TESTDATA) + "/encrypted.pdf");
  ASSERT_FALSE(encrypted.empty());
  auto refused = render_pdf_pages(encrypted, PageFormat{}, PageBudget{}, "part 3");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(refused));
  EXPECT_EQ(std::get<RenderFailure>(refused).text,
            "part 3 cannot be faxed: the PDF is encrypted (protected by a password)");
}

}  // namespace
}  // namespace bh::render
