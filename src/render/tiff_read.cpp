#include "render/tiff_read.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "render/tiff_messages.hpp"

namespace bh::render {
namespace {

// Resolutions outside this range are treated as absent: a hostile or
// broken file must not turn into a page kilometres long.
constexpr double kMinDpi = 20.0;
constexpr double kMaxDpi = 2400.0;
constexpr double kDefaultXDpi = 204.0;
constexpr double kDefaultYDpi = 196.0;
// A TSI has 20 characters; the rest of a long description is dropped.
constexpr std::size_t kMaxDescription = 1024;

// The file in memory, read through libtiff's client procedures.
struct MemoryFile {
  std::string_view bytes;
  toff_t offset = 0;
};

tmsize_t memory_read(thandle_t handle, void* buffer, tmsize_t size) {
  auto* file = static_cast<MemoryFile*>(handle);
  if (size <= 0 || file->offset >= file->bytes.size()) return 0;
  const std::size_t n =
      std::min<std::size_t>(static_cast<std::size_t>(size), file->bytes.size() - file->offset);
  std::memcpy(buffer, file->bytes.data() + file->offset, n);
  file->offset += n;
  return static_cast<tmsize_t>(n);
}

tmsize_t memory_write(thandle_t, void*, tmsize_t) {
  return -1;
}

toff_t memory_seek(thandle_t handle, toff_t offset, int whence) {
  auto* file = static_cast<MemoryFile*>(handle);
  toff_t base = 0;
  if (whence == SEEK_CUR) base = file->offset;
  if (whence == SEEK_END) base = file->bytes.size();
  // libtiff passes unsigned offsets; a "negative" one wraps and is refused here.
  if (offset > file->bytes.size() || base + offset > file->bytes.size()) {
    return static_cast<toff_t>(-1);
  }
  file->offset = base + offset;
  return file->offset;
}

int memory_close(thandle_t) {
  return 0;
}

toff_t memory_size(thandle_t handle) {
  return static_cast<MemoryFile*>(handle)->bytes.size();
}

int memory_map(thandle_t handle, void** base, toff_t* size) {
  auto* file = static_cast<MemoryFile*>(handle);
  *base = const_cast<char*>(file->bytes.data());  // read-only mode: libtiff never writes it
  *size = file->bytes.size();
  return 1;
}

void memory_unmap(thandle_t, void*, toff_t) {}

struct TiffCloser {
  void operator()(TIFF* tiff) const { TIFFClose(tiff); }
};
struct OptionsFree {
  void operator()(TIFFOpenOptions* options) const { TIFFOpenOptionsFree(options); }
};

double sane_dpi(float value, uint16_t unit, double fallback) {
  double dpi = value;
  if (unit == RESUNIT_CENTIMETER) dpi *= 2.54;
  if (unit == RESUNIT_NONE || !(dpi >= kMinDpi && dpi <= kMaxDpi)) return fallback;
  return dpi;
}

void read_resolution(TIFF* tiff, TiffPage& page) {
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tiff, TIFFTAG_RESOLUTIONUNIT, &unit);
  float x = 0;
  float y = 0;
  page.x_dpi =
      TIFFGetField(tiff, TIFFTAG_XRESOLUTION, &x) ? sane_dpi(x, unit, kDefaultXDpi) : kDefaultXDpi;
  page.y_dpi =
      TIFFGetField(tiff, TIFFTAG_YRESOLUTION, &y) ? sane_dpi(y, unit, kDefaultYDpi) : kDefaultYDpi;
}

// RGBA (libtiff's ABGR words, composited over white) to 8-bit grey.
void to_grey(const std::vector<uint32_t>& raster, Bitmap& bitmap) {
  for (std::size_t i = 0; i < raster.size(); ++i) {
    const uint32_t p = raster[i];
    const unsigned r = TIFFGetR(p);
    const unsigned g = TIFFGetG(p);
    const unsigned b = TIFFGetB(p);
    const unsigned a = TIFFGetA(p);
    const unsigned luma = (299 * r + 587 * g + 114 * b + 500) / 1000;
    bitmap.pixels[i] = static_cast<std::uint8_t>((luma * a + 255 * (255 - a) + 127) / 255);
  }
}

Status read_page(TIFF* tiff, int index, long long max_pixels, const TiffMessages& messages,
                 TiffPage& page) {
  const std::string name = "page " + std::to_string(index + 1);
  uint32_t width = 0;
  uint32_t height = 0;
  if (!TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &height) || width == 0 || height == 0) {
    return Error{tiff_error_text(name + " has no image size", messages)};
  }
  const long long pixels = static_cast<long long>(width) * height;
  if (pixels > max_pixels) {
    return Error{name + " is too big: " + std::to_string(width) + " x " + std::to_string(height) +
                 " pixels (at most " + std::to_string(max_pixels) + ")"};
  }
  char reason[1024] = {0};
  if (!TIFFRGBAImageOK(tiff, reason)) {
    return Error{name + " cannot be decoded: " + reason};
  }
  std::vector<uint32_t> raster(static_cast<std::size_t>(pixels));
  if (!TIFFReadRGBAImageOriented(tiff, width, height, raster.data(), ORIENTATION_TOPLEFT,
                                 /*stop_on_error=*/1)) {
    return Error{tiff_error_text(name + " cannot be decoded", messages)};
  }
  page.bitmap = Bitmap(static_cast<int>(width), static_cast<int>(height));
  to_grey(raster, page.bitmap);
  read_resolution(tiff, page);
  return ok_status();
}

}  // namespace

Result<std::string> read_tiff_pages(std::string_view bytes, int max_pages, long long max_pixels,
                                    const TiffPageSink& on_page) {
  if (bytes.size() < 8) return Error{"not a TIFF file (too short)"};
  TiffMessages messages;
  // libtiff's own buffers (strips, tiles) stay within what a page of the
  // allowed size needs, plus a margin for its tables.
  const tmsize_t max_alloc =
      static_cast<tmsize_t>(std::max<long long>(max_pixels * 4, 1 << 20) + (16 << 20));
  std::unique_ptr<TIFFOpenOptions, OptionsFree> options(
      tiff_options_collecting(messages, max_alloc));
  if (!options) return Error{"out of memory"};
  MemoryFile file{bytes, 0};
  std::unique_ptr<TIFF, TiffCloser> tiff(
      TIFFClientOpenExt("fax.tif", "r", &file, memory_read, memory_write, memory_seek, memory_close,
                        memory_size, memory_map, memory_unmap, options.get()));
  if (!tiff) return Error{tiff_error_text("not a readable TIFF file", messages)};

  // Counting the directories walks the IFD chain without decoding any
  // image (libtiff detects loops in it), so a bomb is refused here.
  const tdir_t count = TIFFNumberOfDirectories(tiff.get());
  if (count == 0) return Error{tiff_error_text("the TIFF file has no pages", messages)};
  // A chain that ends in a broken directory (a truncated file) counts the
  // pages before it; libtiff's complaint says the file is damaged.
  if (!messages.errors.empty()) return Error{tiff_error_text("the TIFF file is damaged", messages)};
  if (count > static_cast<tdir_t>(max_pages)) {
    return Error{"the TIFF file has " + std::to_string(count) + " pages (at most " +
                 std::to_string(max_pages) + ")"};
  }

  std::string description;
  for (tdir_t index = 0; index < count; ++index) {
    // Page one is current after opening; each next one follows the chain.
    if (index > 0 && !TIFFReadDirectory(tiff.get())) {
      return Error{
          tiff_error_text("page " + std::to_string(index + 1) + " cannot be read", messages)};
    }
    if (index == 0) {
      const char* text = nullptr;
      if (TIFFGetField(tiff.get(), TIFFTAG_IMAGEDESCRIPTION, &text) && text != nullptr) {
        description.assign(text, strnlen(text, kMaxDescription));
      }
    }
    TiffPage page;
    if (Status read = read_page(tiff.get(), static_cast<int>(index), max_pixels, messages, page);
        !read) {
      return read.error();
    }
    if (!messages.errors.empty()) {
      return Error{tiff_error_text("page " + std::to_string(index + 1) + " is damaged", messages)};
    }
    if (Status taken = on_page(std::move(page), static_cast<int>(index), static_cast<int>(count));
        !taken) {
      return taken.error();
    }
  }
  return description;
}

Result<TiffDocument> read_tiff(std::string_view bytes, int max_pages, long long max_pixels) {
  TiffDocument document;
  auto description = read_tiff_pages(bytes, max_pages, max_pixels,
                                     [&document](TiffPage&& page, int, int count) -> Status {
                                       if (document.pages.empty()) document.pages.reserve(count);
                                       document.pages.push_back(std::move(page));
                                       return ok_status();
                                     });
  if (!description) return description.error();
  document.description = std::move(description.value());
  return document;
}

}  // namespace bh::render
