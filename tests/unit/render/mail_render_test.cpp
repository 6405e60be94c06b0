// Golden rendering tests of issue 10: whole mails through render_mail.
#include "render/mail_render.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "render/html_text.hpp"
#include "render/text_pages.hpp"
#include "render/tiff_write.hpp"
#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

using test::attachment;
using test::ink;
using test::ink_bands;
using test::ink_columns;
using test::mail;
using test::multipart;
using test::text_part;

RenderedMail render_ok(const std::string& message, const MailRenderOptions& options = {}) {
  auto result = render_mail(message, options);
  if (auto* failure = std::get_if<RenderFailure>(&result)) {
    ADD_FAILURE() << failure->status << " " << failure->text;
    return {};
  }
  return std::get<RenderedMail>(std::move(result));
}

RenderFailure render_failure(const std::string& message, const MailRenderOptions& options = {}) {
  auto result = render_mail(message, options);
  EXPECT_TRUE(std::holds_alternative<RenderFailure>(result));
  auto* failure = std::get_if<RenderFailure>(&result);
  return failure ? *failure : RenderFailure{};
}

// The top of a page (where the text is) against a PNG under data/golden:
// the share of pixels that differ by more than a third of the grey range.
// BH_UPDATE_GOLDEN=1 writes the PNG instead (and returns 0). -1 when the
// PNG is missing or of another size.
double golden_difference(const Bitmap& page, int rows, const std::string& name) {
  std::string path = std::string(BH_RENDER_TESTDATA) + "/golden/" + name;
  const char* update = std::getenv("BH_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, page.width, rows));
    unsigned char* data = cairo_image_surface_get_data(surface.get());
    int stride = cairo_image_surface_get_stride(surface.get());
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < page.width; ++x) {
        std::uint32_t g = page.row(y)[x];
        reinterpret_cast<std::uint32_t*>(data + y * stride)[x] = (g << 16) | (g << 8) | g;
      }
    cairo_surface_mark_dirty(surface.get());
    EXPECT_EQ(cairo_surface_write_to_png(surface.get(), path.c_str()), CAIRO_STATUS_SUCCESS);
    return 0.0;
  }
  SurfacePtr golden(cairo_image_surface_create_from_png(path.c_str()));
  if (cairo_surface_status(golden.get()) != CAIRO_STATUS_SUCCESS) return -1.0;
  Bitmap expected = bitmap_from_surface(golden.get());
  if (expected.width != page.width || expected.height != rows) return -1.0;
  long long different = 0;
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < page.width; ++x)
      if (std::abs(int(expected.row(y)[x]) - int(page.row(y)[x])) > 85) ++different;
  return static_cast<double>(different) / (static_cast<double>(rows) * page.width);
}

// Enough for another FreeType's anti-aliasing; a line moved by two rows
// or a changed font is far more (checked below).
constexpr double kGoldenTolerance = 0.001;

const char* kUmlautCjkText =
    "Sehr geehrte Damen und Herren,\n"
    "Grüße aus Köln: Äpfel, Öl, Übermaß, ß.\n"
    "日本語のファックス。中文传真。한국어 팩스.\n"
    "\tEingerückt mit Tabulator\n"
    "Ende.";

TEST(RenderMailGolden, Utf8BodyWithUmlautsAndCjk) {
  auto rendered =
      render_ok(mail("Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: base64\r\n",
                     test::base64(kUmlautCjkText)));
  ASSERT_EQ(rendered.pages.size(), 1u);
  EXPECT_EQ(rendered.document_pages, 1);
  const Bitmap& page = rendered.pages[0];
  EXPECT_EQ(page.width, 1728);
  EXPECT_EQ(page.height, 2292);
  auto bands = test::text_lines(page);
  ASSERT_EQ(bands.size(), 5u);  // five lines
  // The CJK line has glyphs (not boxes: no font lacks them) and ink across.
  auto laid_out = render_text_pages(kUmlautCjkText, PageFormat{}, TextPageStyle{}, {});
  EXPECT_EQ(std::get<TextPages>(laid_out).unknown_glyphs, 0);
  EXPECT_GT(ink(page, 80, bands[2].first, 800, bands[2].second + 1), 0.08);
  // The tab indents the fourth line by eight columns.
  EXPECT_GT(ink_columns(page, bands[3].first, bands[3].second + 1).first,
            ink_columns(page, bands[4].first, bands[4].second + 1).first + 120);  // 8 x 17 px
  ASSERT_EQ(rendered.parts.size(), 1u);
  EXPECT_EQ(rendered.parts[0], "body text/plain: 1 page");
  double difference = golden_difference(page, 400, "umlaut_cjk.png");
  ASSERT_GE(difference, 0.0)
      << "data/golden/umlaut_cjk.png is missing: run with BH_UPDATE_GOLDEN=1";
  EXPECT_LE(difference, kGoldenTolerance);
  // The comparison would notice a layout change: the page two rows lower.
  Bitmap shifted(page.width, page.height);
  std::copy(page.pixels.begin(), page.pixels.end() - 2 * page.width,
            shifted.pixels.begin() + 2 * page.width);
  if (!std::getenv("BH_UPDATE_GOLDEN")) {
    EXPECT_GT(golden_difference(shifted, 400, "umlaut_cjk.png"), kGoldenTolerance);
  }
}

TEST(RenderMailGolden, HtmlBodyIsRenderedAsItsText) {
  std::string html =
      "<html><head><style>p{x:y}</style></head><body><p>Hello <b>fax</b></p>"
      "<script>document.write('no')</script><ul><li>one</li><li>two</li></ul></body></html>";
  auto rendered = render_ok(mail("Content-Type: text/html; charset=utf-8\r\n", html));
  ASSERT_EQ(rendered.pages.size(), 1u);
  auto text = render_text_pages(html_to_text(html), PageFormat{}, TextPageStyle{}, {});
  const Bitmap& expected = std::get<TextPages>(text).pages.at(0);
  EXPECT_EQ(rendered.pages[0].pixels, expected.pixels);
  EXPECT_EQ(ink_bands(rendered.pages[0]).size(), 3u);  // Hello fax, - one, - two
}

TEST(RenderMailGolden, MultiPagePdfAttachmentAfterTheBody) {
  auto rendered = render_ok(
      mail(multipart("mixed", {text_part("text/plain", "utf-8", "Please find the offer attached."),
                               attachment("application/pdf", "offer.pdf", test::make_pdf(3))}),
           ""));
  ASSERT_EQ(rendered.pages.size(), 4u);
  EXPECT_EQ(rendered.document_pages, 4);
  for (const auto& page : rendered.pages) {
    EXPECT_EQ(page.width, 1728);
    EXPECT_EQ(page.height, 2292);
  }
  EXPECT_LT(ink(rendered.pages[0]), 0.01);  // one line of text
  for (int n = 1; n <= 3; ++n)              // the PDF's bars: n/10 of the page
    EXPECT_NEAR(ink(rendered.pages[n]), n / 10.0 * 1686 / 1728, 0.01);
  ASSERT_EQ(rendered.parts.size(), 2u);
  EXPECT_EQ(rendered.parts[1], "part 2 (application/pdf, \"offer.pdf\"): 3 pages");
}

TEST(RenderMailGolden, TiffAtTheWrongResolutionIsConverted) {
  PageFormat normal{Paper::a4, Resolution::normal};
  Bitmap page(PageFormat::kWidthPx, normal.height_px());
  for (int y = 0; y < normal.height_px() / 2; ++y)
    for (int x = 0; x < PageFormat::kWidthPx; ++x) page.row(y)[x] = 0;
  auto path = std::filesystem::temp_directory_path() / "bh-render-mail-normal.tif";
  ASSERT_TRUE(write_fax_tiff({page}, normal, path).ok());
  std::ifstream in(path, std::ios::binary);
  std::string tiff((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);

  MailRenderOptions options;  // fine A4
  auto rendered = render_ok(
      mail(multipart("mixed", {attachment("application/octet-stream", "fax.tif", tiff)}), ""),
      options);
  ASSERT_EQ(rendered.pages.size(), 1u);
  EXPECT_EQ(rendered.pages[0].height, 2292);
  auto bands = ink_bands(rendered.pages[0]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_NEAR(bands[0].second, 1146, 3);  // the top half, 573 lines stretched to 1146
}

TEST(RenderMailGolden, UnsupportedAttachmentIsRefusedNamingThePart) {
  auto failure = render_failure(
      mail(multipart("mixed", {text_part("text/plain", "utf-8", "see attachment"),
                               attachment("application/pdf", "ok.pdf", test::make_pdf(1)),
                               attachment("application/zip", "report.zip", "PK\x03\x04....")}),
           ""));
  EXPECT_EQ(failure.status, "5.6.1");
  EXPECT_EQ(failure.text,
            "part 3 (application/zip, \"report.zip\") cannot be faxed: only text, HTML, PDF, "
            "TIFF, PNG and JPEG can");
}

TEST(RenderMail, CoverPageComesFirstWithTheDocumentsPageCount) {
  MailRenderOptions options;
  options.cover_template = "FAX\nTo: {recipient}\nPages: {pages}";
  options.cover.recipient = "+49 30 123456";
  auto rendered = render_ok(
      mail(multipart("mixed", {text_part("text/plain", "utf-8", "body"),
                               attachment("application/pdf", "a.pdf", test::make_pdf(2))}),
           ""),
      options);
  ASSERT_EQ(rendered.pages.size(), 4u);
  EXPECT_EQ(rendered.document_pages, 3);
  EXPECT_EQ(rendered.parts.front(), "cover: 1 page");
  auto expected_cover = render_text_pages("FAX\nTo: +49 30 123456\nPages: 3", PageFormat{},
                                          TextPageStyle{"DejaVu Sans 14", 20.0}, {});
  EXPECT_EQ(rendered.pages[0].pixels, std::get<TextPages>(expected_cover).pages.at(0).pixels);
}

TEST(RenderMail, MailWithOnlyASubjectIsItsCoverPageOrRefused) {
  std::string empty = mail("Content-Type: text/plain\r\n", "  \r\n\r\n");
  auto failure = render_failure(empty);
  EXPECT_EQ(failure.status, "5.6.1");
  EXPECT_NE(failure.text.find("nothing to fax"), std::string::npos);

  MailRenderOptions options;
  options.cover_template = "{subject}";
  options.cover.subject = "Call me back";
  auto rendered = render_ok(empty, options);
  ASSERT_EQ(rendered.pages.size(), 1u);
  EXPECT_EQ(rendered.document_pages, 0);
  EXPECT_GT(ink(rendered.pages[0]), 0.0);
}

TEST(RenderMail, PageLimitCountsTheDocumentWithoutTheCover) {
  std::string message =
      mail(multipart("mixed", {attachment("application/pdf", "a.pdf", test::make_pdf(3))}), "");
  MailRenderOptions options;
  options.max_pages = 2;
  auto failure = render_failure(message, options);
  EXPECT_EQ(failure.status, "5.3.4");
  EXPECT_NE(failure.text.find("more than 2 pages"), std::string::npos);
  options.max_pages = 3;
  options.cover_template = "cover";
  EXPECT_EQ(render_ok(message, options).pages.size(), 4u);
}

TEST(RenderMail, BodyCanBeLeftOut) {
  MailRenderOptions options;
  options.include_body = false;
  auto rendered = render_ok(
      mail(multipart("mixed", {text_part("text/plain", "utf-8", "body"),
                               attachment("image/png", "a.png", test::make_png(100, 100))}),
           ""),
      options);
  ASSERT_EQ(rendered.pages.size(), 1u);
  ASSERT_EQ(rendered.parts.size(), 1u);
  EXPECT_EQ(rendered.parts[0], "part 2 (image/png, \"a.png\"): 1 page");
}

}  // namespace
}  // namespace bh::render
