#include "render/image_pages.hpp"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "render/tiff_write.hpp"
#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

using test::ink_bands;
using test::ink_columns;

std::vector<Bitmap> pages_ok(std::string_view bytes, PartKind kind, PageFormat format = {},
                             PageBudget budget = {50, 50}, RenderLimits limits = {}) {
  auto result = render_image_pages(bytes, kind, format, budget, limits, "part 1");
  if (auto* failure = std::get_if<RenderFailure>(&result)) {
    ADD_FAILURE() << failure->text;
    return {};
  }
  return std::get<std::vector<Bitmap>>(std::move(result));
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("bh-render-" + std::to_string(getpid()) + "-" + name))
      .string();
}

std::string slurp_and_remove(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  std::filesystem::remove(path);
  return content.str();
}

// An 8-bit grey TIFF of width x height at dpi, black in its top-left quarter.
std::string grey_tiff(int width, int height, double dpi, int pages = 1) {
  std::string path = temp_path("grey.tif");
  TIFF* tiff = TIFFOpen(path.c_str(), "w");
  std::vector<std::uint8_t> row(width);
  for (int p = 0; p < pages; ++p) {
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tiff, TIFFTAG_XRESOLUTION, dpi);
    TIFFSetField(tiff, TIFFTAG_YRESOLUTION, dpi);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, height);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) row[x] = (x < width / 2 && y < height / 2) ? 0 : 255;
      TIFFWriteScanline(tiff, row.data(), y, 0);
    }
    TIFFWriteDirectory(tiff);
  }
  TIFFClose(tiff);
  return slurp_and_remove(path);
}

TEST(RenderImagePages, PngWithoutResolutionIsPlacedAt96Dpi) {
  auto pages = pages_ok(test::make_png(400, 200), PartKind::png);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].width, 1728);
  EXPECT_EQ(pages[0].height, 2292);
  // 400 x 200 px at 96 dpi: 4.17 x 2.08 in: 850 px across, 408 lines;
  // centred; its left half is black.
  auto bands = ink_bands(pages[0]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_LE(bands[0].first, 1);
  EXPECT_NEAR(bands[0].second, 408, 3);
  auto [left, right] = ink_columns(pages[0], 0, 400);
  EXPECT_NEAR(left, (1728 - 850) / 2, 3);
  EXPECT_NEAR(right, 864, 3);
}

TEST(RenderImagePages, LargeJpegIsScaledDownToFitThePage) {
  std::string png = test::make_png(3000, 1000);
  GdkPixbufLoader* loader = gdk_pixbuf_loader_new();
  ASSERT_TRUE(gdk_pixbuf_loader_write(loader, reinterpret_cast<const guchar*>(png.data()),
                                      png.size(), nullptr));
  ASSERT_TRUE(gdk_pixbuf_loader_close(loader, nullptr));
  gchar* buffer = nullptr;
  gsize size = 0;
  ASSERT_TRUE(gdk_pixbuf_save_to_buffer(gdk_pixbuf_loader_get_pixbuf(loader), &buffer, &size,
                                        "jpeg", nullptr, "quality", "90", "x-dpi", "300", "y-dpi",
                                        "300", nullptr));
  g_object_unref(loader);
  std::string jpeg(buffer, size);
  g_free(buffer);
  auto pages = pages_ok(jpeg, PartKind::jpeg, PageFormat{Paper::a4, Resolution::normal});
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].height, 1146);
  // 10 x 3.33 in is wider than the page (8.47 in): scaled to 1728 px
  // across, 3.33 * 0.847 in = 2.82 in = 277 lines at 98 lpi.
  auto bands = ink_bands(pages[0]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_NEAR(bands[0].second, 277, 4);
  auto [left, right] = ink_columns(pages[0], 0, 270);
  EXPECT_LE(left, 1);
  EXPECT_NEAR(right, 864, 4);
}

TEST(RenderImagePages, MislabelledPngIsDecodedByItsContent) {
  auto pages = pages_ok(test::make_png(100, 50), PartKind::jpeg);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_GT(test::ink(pages[0]), 0.0);
}

TEST(RenderImagePages, RefusesHugeAndDamagedImages) {
  RenderLimits small;
  small.max_image_pixels = 10000;
  auto huge = render_image_pages(test::make_png(200, 100), PartKind::png, PageFormat{},
                                 PageBudget{}, small, "part 2 (image/png)");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(huge));
  EXPECT_EQ(std::get<RenderFailure>(huge).status, "5.3.4");
  EXPECT_NE(std::get<RenderFailure>(huge).text.find("200 x 100 pixels"), std::string::npos);

  // Cut inside the header (cut later, gdk-pixbuf shows the rows it has,
  // as image viewers do).
  std::string png = test::make_png(200, 100);
  auto damaged = render_image_pages(png.substr(0, 40), PartKind::png, PageFormat{}, PageBudget{},
                                    RenderLimits{}, "part 2 (image/png)");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(damaged));
  EXPECT_EQ(std::get<RenderFailure>(damaged).status, "5.6.1");
  EXPECT_EQ(std::get<RenderFailure>(damaged).text.rfind("part 2 (image/png) cannot be faxed", 0),
            0u);
}

TEST(RenderImagePages, NormalResolutionTiffIsStretchedOntoAFinePage) {
  PageFormat normal{Paper::a4, Resolution::normal};
  Bitmap page(PageFormat::kWidthPx, normal.height_px());
  for (int y = 100; y < 200; ++y)
    for (int x = 0; x < 864; ++x) page.row(y)[x] = 0;
  std::string path = temp_path("normal.tif");
  ASSERT_TRUE(write_fax_tiff({page}, normal, path).ok());
  auto pages = pages_ok(slurp_and_remove(path), PartKind::tiff);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].height, 2292);
  auto bands = ink_bands(pages[0]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_NEAR(bands[0].first, 200, 2);  // twice as many lines
  EXPECT_NEAR(bands[0].second, 399, 2);
  auto [left, right] = ink_columns(pages[0], 250, 350);
  EXPECT_LE(left, 1);
  EXPECT_NEAR(right, 863, 2);  // the width is the same
}

TEST(RenderImagePages, HighResolutionTiffIsScaledDown) {
  auto pages = pages_ok(grey_tiff(2400, 600, 300.0, 2), PartKind::tiff);
  ASSERT_EQ(pages.size(), 2u);  // one per TIFF page
  // 8 x 2 in at 300 dpi: 1632 px across (centred), 392 lines; black
  // top-left quarter.
  auto bands = ink_bands(pages[1]);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_NEAR(bands[0].second, 196, 3);
  auto [left, right] = ink_columns(pages[1], 0, 190);
  EXPECT_NEAR(left, 48, 3);
  EXPECT_NEAR(right, 48 + 816, 3);
}

TEST(RenderImagePages, TiffPagesCountAgainstTheBudget) {
  auto result = render_image_pages(grey_tiff(100, 100, 200.0, 3), PartKind::tiff, PageFormat{},
                                   PageBudget{2, 6}, RenderLimits{}, "part 1");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(result));
  EXPECT_EQ(std::get<RenderFailure>(result).status, "5.3.4");
  auto bad = render_image_pages("II*\0garbage", PartKind::tiff, PageFormat{}, PageBudget{},
                                RenderLimits{}, "part 4 (image/tiff)");
  ASSERT_TRUE(std::holds_alternative<RenderFailure>(bad));
  EXPECT_EQ(std::get<RenderFailure>(bad).status, "5.6.1");
  EXPECT_EQ(std::get<RenderFailure>(bad).text.rfind("part 4 (image/tiff) cannot be faxed: ", 0),
            0u);
}

}  // namespace
}  // namespace bh::render
