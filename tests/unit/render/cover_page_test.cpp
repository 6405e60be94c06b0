#include "render/cover_page.hpp"

#include <gtest/gtest.h>

#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

CoverFields fields() {
  return CoverFields{"Alice <alice@example.com>", "+49 30 123456", "Offer {draft}",
                     "2026-12-02 10:00"};
}

TEST(RenderCoverPage, FillsInTheFields) {
  EXPECT_EQ(expand_cover_template("From: {sender}\nTo: {recipient}\nRe: {subject}\n"
                                  "{pages} pages, {date}",
                                  fields(), 3),
            "From: Alice <alice@example.com>\nTo: +49 30 123456\nRe: Offer {draft}\n"
            "3 pages, 2026-12-02 10:00");
}

TEST(RenderCoverPage, KeepsUnknownFieldsAndEscapedBraces) {
  EXPECT_EQ(expand_cover_template("{unknown} {{pages}} {pages}} { {", fields(), 2),
            "{unknown} {pages} 2} { {");
  EXPECT_EQ(expand_cover_template("{{sender}", fields(), 0), "{sender}");
  EXPECT_EQ(expand_cover_template("{pages", fields(), 1), "{pages");
  EXPECT_EQ(expand_cover_template("{x{pages}", fields(), 1), "{x1");
}

TEST(RenderCoverPage, IsOnePageInALargerFont) {
  std::string text = "Fax\n";
  for (int i = 0; i < 300; ++i) text += "line\n";  // more than a page: cut
  Bitmap cover = render_cover_page(text, fields(), 1, PageFormat{});
  EXPECT_EQ(cover.width, 1728);
  EXPECT_EQ(cover.height, 2292);
  auto bands = test::ink_bands(cover);
  ASSERT_GT(bands.size(), 10u);
  // 14 pt "F" (cap height ~10 pt = 27 lines) vs 10 pt text (~19 lines).
  EXPECT_GT(bands[0].second - bands[0].first + 1, 23);
  auto [left, right] = test::ink_columns(cover, 0, 2292);
  EXPECT_GE(left, 160 - 2);  // 20 mm margins
}

}  // namespace
}  // namespace bh::render
