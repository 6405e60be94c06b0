// The TIFF-F writer and the TIFF reader: the tags a fax server checks
// (read back through libtiff, as tiffinfo would), the pixels after a round
// trip, and the reader's refusals (page and pixel limits, corrupt files).
#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "render/tiff_read.hpp"
#include "render/tiff_write.hpp"
#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

namespace fs = std::filesystem;

using test::slurp;

// A temporary directory for this file's tests.
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("bh-tiff-test") {}
};

// A page with a black box whose place depends on the page number, so a
// page mix-up or an offset shows.
Bitmap test_page(int height, int index) {
  Bitmap page(PageFormat::kWidthPx, height);
  for (int y = 100 + 50 * index; y < 300 + 50 * index; ++y) {
    for (int x = 200; x < 600; ++x) page.row(y)[x] = 0;
  }
  page.row(10)[10] = 127;  // just black
  page.row(10)[11] = 128;  // just white
  return page;
}

struct Tags {
  uint32_t width = 0, length = 0, rows_per_strip = 0, subfile = 0, group3 = 0;
  uint16_t bits = 0, samples = 0, compression = 0, photometric = 0, fill = 0, unit = 0;
  uint16_t page = 0, pages = 0;
  float x_res = 0, y_res = 0;
  tstrile_t strips = 0;
  std::string software;
};

std::vector<Tags> read_tags(const fs::path& path) {
  std::vector<Tags> all;
  TIFF* tiff = TIFFOpen(path.c_str(), "r");
  if (tiff == nullptr) return all;
  do {
    Tags t;
    TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &t.width);
    TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &t.length);
    TIFFGetField(tiff, TIFFTAG_ROWSPERSTRIP, &t.rows_per_strip);
    TIFFGetField(tiff, TIFFTAG_SUBFILETYPE, &t.subfile);
    TIFFGetField(tiff, TIFFTAG_BITSPERSAMPLE, &t.bits);
    TIFFGetField(tiff, TIFFTAG_SAMPLESPERPIXEL, &t.samples);
    TIFFGetField(tiff, TIFFTAG_COMPRESSION, &t.compression);
    TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &t.photometric);
    TIFFGetField(tiff, TIFFTAG_FILLORDER, &t.fill);
    TIFFGetField(tiff, TIFFTAG_RESOLUTIONUNIT, &t.unit);
    TIFFGetField(tiff, TIFFTAG_XRESOLUTION, &t.x_res);
    TIFFGetField(tiff, TIFFTAG_YRESOLUTION, &t.y_res);
    TIFFGetField(tiff, TIFFTAG_PAGENUMBER, &t.page, &t.pages);
    if (t.compression == COMPRESSION_CCITTFAX3)
      TIFFGetField(tiff, TIFFTAG_GROUP3OPTIONS, &t.group3);
    const char* software = nullptr;
    if (TIFFGetField(tiff, TIFFTAG_SOFTWARE, &software)) t.software = software;
    t.strips = TIFFNumberOfStrips(tiff);
    all.push_back(t);
  } while (TIFFReadDirectory(tiff));
  TIFFClose(tiff);
  return all;
}

TEST(FaxTiffWrite, G4FineA4HasTheTiffFTags) {
  TempDir dir;
  const PageFormat format{Paper::a4, Resolution::fine, Compression::g4};
  std::vector<Bitmap> pages = {test_page(2292, 0), test_page(2292, 1), test_page(2292, 2)};
  auto written = write_fax_tiff(pages, format, dir / "fax.tif");
  ASSERT_TRUE(written.ok()) << written.error().message;

  const auto tags = read_tags(dir / "fax.tif");
  ASSERT_EQ(tags.size(), 3u);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const Tags& t = tags[i];
    EXPECT_EQ(t.width, 1728u);
    EXPECT_EQ(t.length, 2292u);
    EXPECT_EQ(t.bits, 1);
    EXPECT_EQ(t.samples, 1);
    EXPECT_EQ(t.compression, COMPRESSION_CCITTFAX4);
    EXPECT_EQ(t.photometric, PHOTOMETRIC_MINISWHITE);
    EXPECT_EQ(t.fill, FILLORDER_MSB2LSB);
    EXPECT_EQ(t.unit, RESUNIT_INCH);
    EXPECT_FLOAT_EQ(t.x_res, 204.0f);
    EXPECT_FLOAT_EQ(t.y_res, 196.0f);
    EXPECT_EQ(t.rows_per_strip, 2292u);
    EXPECT_EQ(t.strips, 1u);
    EXPECT_EQ(t.subfile, static_cast<uint32_t>(FILETYPE_PAGE));
    EXPECT_EQ(t.page, i);
    EXPECT_EQ(t.pages, 3);
    EXPECT_EQ(t.software, "Bridgehead");
  }
}

TEST(FaxTiffWrite, G3NormalHasTwoDimensionalCodingWithEolPadding) {
  TempDir dir;
  const PageFormat format{Paper::letter, Resolution::normal, Compression::g3};
  ASSERT_EQ(format.height_px(), 1078);
  auto written = write_fax_tiff({test_page(1078, 0)}, format, dir / "fax.tif");
  ASSERT_TRUE(written.ok()) << written.error().message;
  const auto tags = read_tags(dir / "fax.tif");
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].compression, COMPRESSION_CCITTFAX3);
  EXPECT_EQ(tags[0].group3, static_cast<uint32_t>(GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS));
  EXPECT_FLOAT_EQ(tags[0].y_res, 98.0f);
  EXPECT_EQ(tags[0].length, 1078u);
  EXPECT_EQ(tags[0].pages, 1);
}

TEST(FaxTiffWrite, RefusesPagesOfTheWrongWidth) {
  TempDir dir;
  auto written = write_fax_tiff({Bitmap(1700, 100)}, PageFormat{}, dir / "fax.tif");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("1728"), std::string::npos);
  EXPECT_FALSE(write_fax_tiff({}, PageFormat{}, dir / "none.tif").ok());
}

TEST(FaxTiffWrite, AnUnwritablePathIsAnErrorWithLibtiffsWords) {
  auto written = write_fax_tiff({test_page(2292, 0)}, PageFormat{}, "/nonexistent-dir/fax.tif");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("/nonexistent-dir/fax.tif"), std::string::npos);
  EXPECT_EQ(written.error().code, std::errc::no_such_file_or_directory);
}

TEST(FaxTiffWrite, ThresholdIsBelow128) {
  const std::uint8_t grey[10] = {0, 127, 128, 255, 0, 0, 0, 0, 50, 200};
  std::uint8_t packed[2] = {0xaa, 0xaa};
  pack_row_min_is_white(grey, 10, packed);
  EXPECT_EQ(packed[0], 0b11001111);  // min-is-white: a set bit is black, MSB first
  EXPECT_EQ(packed[1], 0b10000000);
}

TEST(FaxTiffRead, RoundTripKeepsPixelsResolutionAndDescription) {
  TempDir dir;
  const PageFormat format{Paper::a4, Resolution::normal, Compression::g3};
  std::vector<Bitmap> pages = {test_page(1146, 0), test_page(1146, 1)};
  ASSERT_TRUE(write_fax_tiff(pages, format, dir / "fax.tif", "+49 30 123456").ok());

  auto document = read_tiff(slurp(dir / "fax.tif"), 10, 10'000'000);
  ASSERT_TRUE(document.ok()) << document.error().message;
  ASSERT_EQ(document->pages.size(), 2u);
  EXPECT_EQ(document->description, "+49 30 123456");
  for (int i = 0; i < 2; ++i) {
    const TiffPage& page = document->pages[static_cast<std::size_t>(i)];
    EXPECT_DOUBLE_EQ(page.x_dpi, 204.0);
    EXPECT_DOUBLE_EQ(page.y_dpi, 98.0);
    ASSERT_EQ(page.bitmap.width, 1728);
    ASSERT_EQ(page.bitmap.height, 1146);
    int differences = 0;
    const Bitmap& original = pages[static_cast<std::size_t>(i)];
    for (std::size_t p = 0; p < original.pixels.size(); ++p) {
      const int expected = original.pixels[p] < 128 ? 0 : 255;
      if (page.bitmap.pixels[p] != expected) ++differences;
    }
    EXPECT_EQ(differences, 0) << "page " << i + 1;
  }
}

TEST(FaxTiffRead, PageLimitIsCheckedBeforeDecoding) {
  TempDir dir;
  std::vector<Bitmap> pages(5, test_page(1146, 0));
  ASSERT_TRUE(
      write_fax_tiff(pages, PageFormat{Paper::a4, Resolution::normal}, dir / "fax.tif").ok());
  int decoded = 0;
  auto read =
      read_tiff_pages(slurp(dir / "fax.tif"), 3, 10'000'000, [&](TiffPage&&, int, int) -> Status {
        ++decoded;
        return ok_status();
      });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message, "the TIFF file has 5 pages (at most 3)");
  EXPECT_EQ(decoded, 0);
}

TEST(FaxTiffRead, PixelLimitPerPage) {
  TempDir dir;
  ASSERT_TRUE(write_fax_tiff({test_page(2292, 0)}, PageFormat{}, dir / "fax.tif").ok());
  auto read = read_tiff(slurp(dir / "fax.tif"), 10, 1728LL * 2291);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("page 1 is too big: 1728 x 2292 pixels"), std::string::npos)
      << read.error().message;
  EXPECT_TRUE(read_tiff(slurp(dir / "fax.tif"), 10, 1728LL * 2292).ok());
}

TEST(FaxTiffRead, CorruptFilesAreRefused) {
  TempDir dir;
  ASSERT_TRUE(
      write_fax_tiff({test_page(2292, 0), test_page(2292, 1)}, PageFormat{}, dir / "fax.tif").ok());
  const std::string whole = slurp(dir / "fax.tif");
  EXPECT_FALSE(read_tiff("", 10, 10'000'000).ok());
  EXPECT_FALSE(read_tiff("not a tiff file at all", 10, 10'000'000).ok());
  EXPECT_FALSE(read_tiff(std::string_view("II*\0\xff\xff\xff\x7f", 8), 10, 10'000'000).ok());
  // The first half: page data without its directory (written last).
  auto truncated = read_tiff(whole.substr(0, whole.size() / 2), 10, 10'000'000);
  EXPECT_FALSE(truncated.ok());
  // Every prefix fails cleanly or reads (never crashes): a cheap fuzz.
  for (std::size_t n = 0; n < whole.size(); n += 97) {
    auto prefix = read_tiff(whole.substr(0, n), 10, 10'000'000);
    if (prefix.ok()) {
      EXPECT_FALSE(prefix->pages.empty());
    }
  }
}

// An 8-bit grey or RGB TIFF as other programs write it (no fax tags).
void write_plain_tiff(const fs::path& path, int samples, uint16_t unit, float x_res, float y_res,
                      bool with_resolution) {
  TIFF* tiff = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tiff, nullptr);
  const uint32_t width = 20, height = 10;
  TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, samples);
  TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, samples == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, height);
  if (with_resolution) {
    TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, unit);
    TIFFSetField(tiff, TIFFTAG_XRESOLUTION, x_res);
    TIFFSetField(tiff, TIFFTAG_YRESOLUTION, y_res);
  }
  std::vector<uint8_t> data(width * height * samples, 255);
  for (int s = 0; s < samples; ++s) data[static_cast<std::size_t>(s)] = s == 0 ? 255 : 0;  // red
  TIFFWriteEncodedStrip(tiff, 0, data.data(), static_cast<tmsize_t>(data.size()));
  TIFFClose(tiff);
}

TEST(FaxTiffRead, ResolutionInCentimetresIsConverted) {
  TempDir dir;
  write_plain_tiff(dir / "cm.tif", 1, RESUNIT_CENTIMETER, 80.0f, 40.0f, true);
  auto read = read_tiff(slurp(dir / "cm.tif"), 1, 1000);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_NEAR(read->pages[0].x_dpi, 203.2, 0.01);
  EXPECT_NEAR(read->pages[0].y_dpi, 101.6, 0.01);
}

TEST(FaxTiffRead, MissingOrAbsurdResolutionDefaultsToFine) {
  TempDir dir;
  write_plain_tiff(dir / "none.tif", 1, RESUNIT_INCH, 0, 0, false);
  write_plain_tiff(dir / "absurd.tif", 1, RESUNIT_INCH, 0.001f, 1e9f, true);
  write_plain_tiff(dir / "ratio.tif", 1, RESUNIT_NONE, 1.0f, 2.0f, true);
  for (const char* name : {"none.tif", "absurd.tif", "ratio.tif"}) {
    auto read = read_tiff(slurp(dir / name), 1, 1000);
    ASSERT_TRUE(read.ok()) << name << ": " << read.error().message;
    EXPECT_DOUBLE_EQ(read->pages[0].x_dpi, 204.0) << name;
    EXPECT_DOUBLE_EQ(read->pages[0].y_dpi, 196.0) << name;
  }
}

TEST(FaxTiffRead, ColourBecomesGrey) {
  TempDir dir;
  write_plain_tiff(dir / "rgb.tif", 3, RESUNIT_INCH, 300, 300, true);
  auto read = read_tiff(slurp(dir / "rgb.tif"), 1, 1000);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const Bitmap& page = read->pages[0].bitmap;
  ASSERT_EQ(page.width, 20);
  ASSERT_EQ(page.height, 10);
  EXPECT_EQ(page.row(0)[0], 76);  // pure red: 0.299 * 255
  EXPECT_EQ(page.row(0)[1], 255);
  EXPECT_DOUBLE_EQ(read->pages[0].x_dpi, 300.0);
}

}  // namespace
}  // namespace bh::render
