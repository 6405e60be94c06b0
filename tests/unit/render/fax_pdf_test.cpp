// A received fax becomes a PDF: page count, page sizes in millimetres
// (read back with poppler-glib, as a mail client's viewer would), the ink
// where the fax had it, and the TSI; and the thumbnail's size.
#include "render/fax_pdf.hpp"

#include <cairo.h>
#include <gtest/gtest.h>
#include <poppler.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "render/thumbnail.hpp"
#include "render/tiff_write.hpp"
#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

namespace fs = std::filesystem;

using test::slurp;

// A temporary directory for this file's tests.
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("bh-faxpdf-test") {}
};

// Black in the top left quarter of the page, white elsewhere.
Bitmap quarter_page(int height) {
  Bitmap page(PageFormat::kWidthPx, height);
  for (int y = 0; y < height / 2; ++y) {
    for (int x = 0; x < PageFormat::kWidthPx / 2; ++x) page.row(y)[x] = 0;
  }
  return page;
}

constexpr double kPointsPerMm = 72.0 / 25.4;

struct PdfFile {
  PopplerDocument* document = nullptr;
  explicit PdfFile(const fs::path& path) {
    GError* error = nullptr;
    gchar* uri = g_filename_to_uri(fs::absolute(path).c_str(), nullptr, &error);
    if (uri != nullptr) document = poppler_document_new_from_file(uri, nullptr, &error);
    g_free(uri);
    if (error != nullptr) g_error_free(error);
  }
  ~PdfFile() {
    if (document != nullptr) g_object_unref(document);
  }
};

// The grey value poppler renders at (x_mm, y_mm) of a page.
int grey_at(PopplerPage* page, double x_mm, double y_mm) {
  double width = 0, height = 0;
  poppler_page_get_size(page, &width, &height);
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(width),
                                                        static_cast<int>(height));
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  poppler_page_render(page, cr);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  const int x = static_cast<int>(x_mm * kPointsPerMm);
  const int y = static_cast<int>(y_mm * kPointsPerMm);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const uint32_t pixel = reinterpret_cast<const uint32_t*>(
      data + static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(surface))[x];
  cairo_surface_destroy(surface);
  return static_cast<int>(pixel & 0xff);
}

TEST(FaxPdf, PagesAndSizesFollowTheFax) {
  TempDir dir;
  const PageFormat fine{Paper::a4, Resolution::fine, Compression::g4};
  ASSERT_TRUE(write_fax_tiff({quarter_page(2292), quarter_page(2292)}, fine, dir / "a4.tif",
                             "FAX +49 30 123456")
                  .ok());
  auto summary = fax_tiff_to_pdf(slurp(dir / "a4.tif"), dir / "fax.pdf", FaxPdfLimits{});
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->pages, 2);
  EXPECT_NEAR(summary->width_mm, 215.1, 0.1);   // 1728 / 204 in
  EXPECT_NEAR(summary->height_mm, 297.0, 0.1);  // 2292 / 196 in
  EXPECT_EQ(summary->tsi, "FAX +49 30 123456");

  PdfFile pdf(dir / "fax.pdf");
  ASSERT_NE(pdf.document, nullptr);
  ASSERT_EQ(poppler_document_get_n_pages(pdf.document), 2);
  for (int i = 0; i < 2; ++i) {
    PopplerPage* page = poppler_document_get_page(pdf.document, i);
    double width = 0, height = 0;
    poppler_page_get_size(page, &width, &height);
    EXPECT_NEAR(width / kPointsPerMm, 215.1, 0.1);
    EXPECT_NEAR(height / kPointsPerMm, 297.0, 0.1);
    EXPECT_LT(grey_at(page, 50, 70), 64) << "the black quarter";
    EXPECT_GT(grey_at(page, 160, 220), 192) << "the white rest";
    g_object_unref(page);
  }
}

TEST(FaxPdf, EachPageKeepsItsOwnResolution) {
  TempDir dir;
  // A normal-resolution page: half the lines, the same paper.
  const PageFormat normal{Paper::letter, Resolution::normal, Compression::g3};
  ASSERT_TRUE(write_fax_tiff({quarter_page(1078)}, normal, dir / "letter.tif").ok());
  auto summary = fax_tiff_to_pdf(slurp(dir / "letter.tif"), dir / "fax.pdf", FaxPdfLimits{});
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->pages, 1);
  EXPECT_NEAR(summary->height_mm, 279.4, 0.1);  // 11 in
  EXPECT_EQ(summary->tsi, "");
  PdfFile pdf(dir / "fax.pdf");
  ASSERT_NE(pdf.document, nullptr);
  PopplerPage* page = poppler_document_get_page(pdf.document, 0);
  double width = 0, height = 0;
  poppler_page_get_size(page, &width, &height);
  EXPECT_NEAR(height, 792.0, 0.5);  // 11 in in points
  g_object_unref(page);
}

TEST(FaxPdf, LimitsAndCorruptInputAreErrors) {
  TempDir dir;
  ASSERT_TRUE(write_fax_tiff({quarter_page(2292), quarter_page(2292), quarter_page(2292)},
                             PageFormat{}, dir / "three.tif")
                  .ok());
  FaxPdfLimits two_pages;
  two_pages.max_pages = 2;
  auto too_many = fax_tiff_to_pdf(slurp(dir / "three.tif"), dir / "a.pdf", two_pages);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().message, "the TIFF file has 3 pages (at most 2)");
  auto garbage = fax_tiff_to_pdf("%PDF-1.4 this is not a TIFF", dir / "b.pdf", FaxPdfLimits{});
  EXPECT_FALSE(garbage.ok());
}

TEST(FaxThumbnail, WidthIsFixedAndHeightFollowsTheRealAspect) {
  TempDir dir;
  for (auto [resolution, height] :
       {std::pair{Resolution::fine, 2292}, std::pair{Resolution::normal, 1146}}) {
    const PageFormat format{Paper::a4, resolution, Compression::g4};
    const fs::path png = dir / "thumb.png";
    auto made = write_thumbnail(quarter_page(height), PageFormat::kXDpi, format.y_dpi(), png);
    ASSERT_TRUE(made.ok()) << made.error().message;
    cairo_surface_t* image = cairo_image_surface_create_from_png(png.c_str());
    ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
    EXPECT_EQ(cairo_image_surface_get_width(image), 300);
    // A4 is 297 / 215.1 as tall as wide, whatever the line count.
    EXPECT_NEAR(cairo_image_surface_get_height(image), 414, 1);
    cairo_surface_destroy(image);
  }
}

}  // namespace
}  // namespace bh::render
