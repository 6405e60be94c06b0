#include "render/text_pages.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

using test::ink;
using test::ink_bands;
using test::ink_columns;

constexpr int kMarginPx = 80;  // 10 mm at 204 dpi

TextPages layout(std::string_view text, PageFormat format = {}, PageBudget budget = {50, 50}) {
  auto result = render_text_pages(text, format, TextPageStyle{}, budget);
  if (auto* failure = std::get_if<RenderFailure>(&result)) {
    ADD_FAILURE() << failure->text;
    return {};
  }
  return std::get<TextPages>(std::move(result));
}

TEST(RenderTextPages, PagesHaveTheFormatsPixelSize) {
  auto fine_a4 = layout("x");
  ASSERT_EQ(fine_a4.pages.size(), 1u);
  EXPECT_EQ(fine_a4.pages[0].width, 1728);
  EXPECT_EQ(fine_a4.pages[0].height, 2292);
  auto normal_letter = layout("x", PageFormat{Paper::letter, Resolution::normal});
  ASSERT_EQ(normal_letter.pages.size(), 1u);
  EXPECT_EQ(normal_letter.pages[0].height, 1078);
}

TEST(RenderTextPages, TextStartsInsideTheMargins) {
  auto pages = layout("Hello");
  ASSERT_EQ(pages.pages.size(), 1u);
  auto [left, right] = ink_columns(pages.pages[0], 0, 2292);
  EXPECT_GE(left, kMarginPx - 2);
  EXPECT_LT(left, kMarginPx + 20);
  auto bands = ink_bands(pages.pages[0]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_GE(bands[0].first, 77);  // 10 mm at 196 lpi
}

TEST(RenderTextPages, GlyphsKeepTheirShapeAtBothResolutions) {
  auto fine = layout("H");
  auto normal = layout("H", PageFormat{Paper::a4, Resolution::normal});
  auto fine_band = ink_bands(fine.pages[0]).at(0);
  auto normal_band = ink_bands(normal.pages[0]).at(0);
  double fine_height = fine_band.second - fine_band.first + 1;
  double normal_height = normal_band.second - normal_band.first + 1;
  EXPECT_NEAR(normal_height / fine_height, 0.5, 0.08);
  // A 10 pt capital is about 7 pt high: ~19 lines at 196 lpi.
  EXPECT_NEAR(fine_height, 19, 4);
}

TEST(RenderTextPages, CjkUmlautsAndArabicHaveGlyphs) {
  auto pages = layout("Grüße äöü ß\n日本語のテキスト 中文 한국어\nمرحبا بالعالم\nשלום עולם");
  EXPECT_EQ(pages.unknown_glyphs, 0);
  EXPECT_EQ(pages.lines, 4);
  ASSERT_EQ(pages.pages.size(), 1u);
  EXPECT_EQ(ink_bands(pages.pages[0]).size(), 4u);
  // The counter does see characters no font has (a private use character).
  auto missing = layout("\U0010FFFD");
  EXPECT_GT(missing.unknown_glyphs, 0);
}

TEST(RenderTextPages, RightToLeftParagraphsAreRightAligned) {
  auto pages = layout("Left\nשלום עולם\nمرحبا");
  auto bands = ink_bands(pages.pages[0]);
  ASSERT_EQ(bands.size(), 3u);
  auto latin = ink_columns(pages.pages[0], bands[0].first, bands[0].second + 1);
  auto hebrew = ink_columns(pages.pages[0], bands[1].first, bands[1].second + 1);
  auto arabic = ink_columns(pages.pages[0], bands[2].first, bands[2].second + 1);
  EXPECT_LT(latin.first, kMarginPx + 20);
  EXPECT_LT(latin.second, 864);
  for (auto columns : {hebrew, arabic}) {
    EXPECT_GT(columns.first, 864);                     // starts right of the middle
    EXPECT_GT(columns.second, 1728 - kMarginPx - 30);  // ends at the right margin
    EXPECT_LE(columns.second, 1728 - kMarginPx + 2);
  }
}

TEST(RenderTextPages, LongLinesWrapInsideTheMargins) {
  std::string words;
  for (int i = 0; i < 60; ++i) words += "wraps words ";  // no i dots: one ink band a line
  std::string unbroken(400, 'x');
  auto pages = layout(words + "\n" + unbroken);
  EXPECT_GT(pages.lines, 4);  // 2 input lines
  auto [left, right] = ink_columns(pages.pages[0], 0, 2292);
  EXPECT_LE(right, 1728 - kMarginPx + 2);
  EXPECT_GE(left, kMarginPx - 2);
  EXPECT_EQ(static_cast<int>(ink_bands(pages.pages[0]).size()), pages.lines);
}

TEST(RenderTextPages, AVeryLongParagraphIsLaidOutWhole) {
  std::string text;
  while (text.size() < 200000) text += "word ";
  text += "END";
  auto pages = layout(text);
  // 92 columns a line: every word is drawn, none is dropped.
  EXPECT_GE(pages.lines, 200000 / 92);
  EXPECT_LE(pages.lines, 200000 / 80);
  ASSERT_FALSE(pages.pages.empty());
  EXPECT_GT(test::ink(pages.pages.back()), 0.0);
}

TEST(RenderTextPages, TabsStopEveryEightColumns) {
  auto tab = layout("a\tb");
  auto spaces = layout("a       b");  // a + 7 spaces: b in column 8
  auto one_space = layout("a b");
  int tab_right = ink_columns(tab.pages[0], 0, 2292).second;
  EXPECT_NEAR(tab_right, ink_columns(spaces.pages[0], 0, 2292).second, 2);
  EXPECT_GT(tab_right, ink_columns(one_space.pages[0], 0, 2292).second + 100);
}

TEST(RenderTextPages, BreaksPagesBetweenLines) {
  std::string text;
  for (int i = 1; i <= 200; ++i) text += "line " + std::to_string(i) + "\n";
  auto fine = layout(text);
  auto normal = layout(text, PageFormat{Paper::a4, Resolution::normal});
  ASSERT_GE(fine.pages.size(), 2u);
  EXPECT_EQ(fine.pages.size(), normal.pages.size());  // the same physical layout
  int lines_on_pages = 0;
  for (const auto& page : fine.pages) {
    auto bands = ink_bands(page);
    lines_on_pages += static_cast<int>(bands.size());
    EXPECT_LE(bands.back().second, 2292 - 77);  // inside the bottom margin
  }
  EXPECT_EQ(lines_on_pages, 200);
}

TEST(RenderTextPages, FormFeedStartsAPage) {
  EXPECT_EQ(layout("one\fnext page").pages.size(), 2u);
}

TEST(RenderTextPages, MorePagesThanTheBudgetIsRefused) {
  std::string text(20000, '\n');
  text += "end";
  auto result = render_text_pages(text, PageFormat{}, TextPageStyle{}, PageBudget{3, 7});
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(result));
  EXPECT_EQ(std::get<RenderFailure>(result).status, "5.3.4");
  EXPECT_NE(std::get<RenderFailure>(result).text.find("7"), std::string::npos);
  TextPageStyle truncating;
  truncating.truncate_at_budget = true;
  auto cut = render_text_pages(text, PageFormat{}, truncating, PageBudget{1, 1});
  ASSERT_TRUE(std::holds_alternative<TextPages>(cut));
  EXPECT_EQ(std::get<TextPages>(cut).pages.size(), 1u);
}

TEST(RenderTextPages, ControlCharactersAndBadUtf8DoNotBreakTheLayout) {
  auto pages = layout(std::string("a\x01\x02\x1b[0m b\r\nc\rd \xff\xfe end", 24));
  EXPECT_EQ(pages.lines, 3);
  EXPECT_GT(ink(pages.pages[0]), 0.0);
}

}  // namespace
}  // namespace bh::render
