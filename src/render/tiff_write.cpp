#include "render/tiff_write.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "render/tiff_messages.hpp"

namespace bh::render {
namespace {

constexpr int kBlackBelow = 128;

struct TiffCloser {
  void operator()(TIFF* tiff) const { TIFFClose(tiff); }
};
using TiffHandle = std::unique_ptr<TIFF, TiffCloser>;

struct OptionsFree {
  void operator()(TIFFOpenOptions* options) const { TIFFOpenOptionsFree(options); }
};

bool set_page_tags(TIFF* tiff, const PageFormat& format, int height, int index, int total,
                   std::string_view description) {
  bool ok = TIFFSetField(tiff, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) &&
            TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(PageFormat::kWidthPx)) &&
            TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(height)) &&
            TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 1) &&
            TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 1) &&
            TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
            TIFFSetField(tiff, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB) &&
            TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
            TIFFSetField(tiff, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
            TIFFSetField(tiff, TIFFTAG_XRESOLUTION, static_cast<float>(PageFormat::kXDpi)) &&
            TIFFSetField(tiff, TIFFTAG_YRESOLUTION, static_cast<float>(format.y_dpi())) &&
            TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH) &&
            TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(height)) &&
            TIFFSetField(tiff, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(index),
                         static_cast<uint16_t>(total)) &&
            TIFFSetField(tiff, TIFFTAG_SOFTWARE, "Bridgehead");
  if (!ok) return false;
  // The codec's own tags exist only once the compression is set.
  if (format.compression == Compression::g3) {
    ok = TIFFSetField(tiff, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3) &&
         TIFFSetField(tiff, TIFFTAG_GROUP3OPTIONS,
                      static_cast<uint32_t>(GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS));
  } else {
    ok = TIFFSetField(tiff, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
  }
  if (ok && !description.empty()) {
    const std::string text(description);
    ok = TIFFSetField(tiff, TIFFTAG_IMAGEDESCRIPTION, text.c_str());
  }
  return ok;
}

Error write_error(const std::string& what, const TiffMessages& messages, int errnum) {
  Error error{tiff_error_text(what, messages), {}};
  if (errnum != 0) error.code = std::error_code(errnum, std::generic_category());
  return error;
}

}  // namespace

void pack_row_min_is_white(const std::uint8_t* grey, int width, std::uint8_t* out) {
  const int bytes = (width + 7) / 8;
  std::memset(out, 0, static_cast<std::size_t>(bytes));
  for (int x = 0; x < width; ++x) {
    if (grey[x] < kBlackBelow) out[x >> 3] |= static_cast<std::uint8_t>(0x80u >> (x & 7));
  }
}

Status write_fax_tiff(const std::vector<Bitmap>& pages, const PageFormat& format,
                      const std::filesystem::path& path, std::string_view description) {
  if (pages.empty()) return Error{"no pages to write"};
  if (pages.size() > 0xffff) return Error{"too many pages for a TIFF page number"};
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const Bitmap& page = pages[i];
    if (page.width != PageFormat::kWidthPx || page.height <= 0 ||
        page.pixels.size() != static_cast<std::size_t>(page.width) * page.height) {
      return Error{"page " + std::to_string(i + 1) + " is not a " +
                   std::to_string(PageFormat::kWidthPx) + " pixel wide fax page"};
    }
  }

  TiffMessages messages;
  std::unique_ptr<TIFFOpenOptions, OptionsFree> options(tiff_options_collecting(messages, 0));
  if (!options) return Error{"out of memory"};
  errno = 0;
  TiffHandle tiff(TIFFOpenExt(path.c_str(), "w", options.get()));
  if (!tiff) return write_error("cannot create " + path.string(), messages, errno);

  const int total = static_cast<int>(pages.size());
  const int row_bytes = (PageFormat::kWidthPx + 7) / 8;
  std::vector<std::uint8_t> strip;
  for (int index = 0; index < total; ++index) {
    const Bitmap& page = pages[static_cast<std::size_t>(index)];
    if (!set_page_tags(tiff.get(), format, page.height, index, total, description)) {
      return write_error("cannot set the TIFF tags of page " + std::to_string(index + 1), messages,
                         0);
    }
    strip.assign(static_cast<std::size_t>(row_bytes) * page.height, 0);
    for (int y = 0; y < page.height; ++y) {
      pack_row_min_is_white(page.row(y), page.width,
                            strip.data() + static_cast<std::size_t>(y) * row_bytes);
    }
    errno = 0;
    if (TIFFWriteEncodedStrip(tiff.get(), 0, strip.data(), static_cast<tmsize_t>(strip.size())) <
            0 ||
        !TIFFWriteDirectory(tiff.get())) {
      return write_error("cannot write page " + std::to_string(index + 1) + " to " + path.string(),
                         messages, errno);
    }
  }
  // TIFFClose flushes; a failure there (a full disk) must not pass as success.
  errno = 0;
  if (TIFFFlush(tiff.get()) != 1) {
    return write_error("cannot write " + path.string(), messages, errno);
  }
  tiff.reset();
  if (!messages.errors.empty()) return write_error("cannot write " + path.string(), messages, 0);
  return ok_status();
}

}  // namespace bh::render
