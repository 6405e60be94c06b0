#include "render/fax_pdf.hpp"

#include <cairo-pdf.h>
#include <cairo.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "render/tiff_read.hpp"

namespace bh::render {
namespace {

constexpr double kPointsPerInch = 72.0;
constexpr double kMmPerInch = 25.4;
constexpr int kBlackBelow = 128;  // as the fax writer thresholds (tiff_write.cpp)

struct SurfaceDestroy {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDestroy>;
using Context = std::unique_ptr<cairo_t, ContextDestroy>;

Error cairo_error(const std::string& what, cairo_status_t status) {
  return Error{what + ": " + cairo_status_to_string(status)};
}

// A cairo A1 surface: one bit per pixel, set = opaque (here: black ink).
// Cairo packs A1 pixels into native-endian 32-bit words, pixel 0 in the
// word's lowest bit on little-endian machines and in its highest on
// big-endian ones.
Result<Surface> ink_mask(const Bitmap& bitmap) {
  Surface mask(cairo_image_surface_create(CAIRO_FORMAT_A1, bitmap.width, bitmap.height));
  if (cairo_status_t status = cairo_surface_status(mask.get()); status != CAIRO_STATUS_SUCCESS) {
    return cairo_error("cannot create a page image", status);
  }
  cairo_surface_flush(mask.get());
  unsigned char* data = cairo_image_surface_get_data(mask.get());
  const int stride = cairo_image_surface_get_stride(mask.get());
  for (int y = 0; y < bitmap.height; ++y) {
    auto* words = reinterpret_cast<uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    std::memset(words, 0, static_cast<std::size_t>(stride));
    const std::uint8_t* grey = bitmap.row(y);
    for (int x = 0; x < bitmap.width; ++x) {
      if (grey[x] >= kBlackBelow) continue;
      const unsigned bit = std::endian::native == std::endian::little ? (x & 31) : 31 - (x & 31);
      words[x >> 5] |= 1u << bit;
    }
  }
  cairo_surface_mark_dirty(mask.get());
  return mask;
}

double to_points(int pixels, double dpi) {
  return pixels / dpi * kPointsPerInch;
}

// The PDF's bytes go through this rather than cairo's own file output,
// which does not report a failed close (a full disk would pass unnoticed).
struct PdfFile {
  std::FILE* file = nullptr;
  bool failed = false;
  ~PdfFile() {
    if (file != nullptr) std::fclose(file);
  }
  static cairo_status_t write(void* closure, const unsigned char* data, unsigned int length) {
    auto* self = static_cast<PdfFile*>(closure);
    if (self->failed || std::fwrite(data, 1, length, self->file) != length) {
      self->failed = true;
      return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
  }
  bool close() {
    const bool closed = std::fclose(file) == 0;
    file = nullptr;
    return closed && !failed;
  }
};

}  // namespace

Result<FaxPdfSummary> fax_tiff_to_pdf(std::string_view tiff, const std::filesystem::path& pdf,
                                      const FaxPdfLimits& limits) {
  FaxPdfSummary summary;
  PdfFile out;
  out.file = std::fopen(pdf.c_str(), "wb");
  if (out.file == nullptr) {
    return Error{"cannot create " + pdf.string(), std::error_code(errno, std::generic_category())};
  }
  Surface document;
  Context cr;
  auto description = read_tiff_pages(
      tiff, limits.max_pages, limits.max_pixels, [&](TiffPage&& page, int index, int) -> Status {
        const double width_pt = to_points(page.bitmap.width, page.x_dpi);
        const double height_pt = to_points(page.bitmap.height, page.y_dpi);
        if (index == 0) {
          summary.width_mm = page.bitmap.width / page.x_dpi * kMmPerInch;
          summary.height_mm = page.bitmap.height / page.y_dpi * kMmPerInch;
          document.reset(
              cairo_pdf_surface_create_for_stream(&PdfFile::write, &out, width_pt, height_pt));
          if (cairo_status_t status = cairo_surface_status(document.get());
              status != CAIRO_STATUS_SUCCESS) {
            return cairo_error("cannot create " + pdf.string(), status);
          }
          cairo_pdf_surface_set_metadata(document.get(), CAIRO_PDF_METADATA_CREATOR, "Bridgehead");
          cr.reset(cairo_create(document.get()));
        } else {
          // A new size applies to the page that begins now.
          cairo_pdf_surface_set_size(document.get(), width_pt, height_pt);
        }
        auto mask = ink_mask(page.bitmap);
        if (!mask) return mask.error();
        cairo_save(cr.get());
        cairo_scale(cr.get(), kPointsPerInch / page.x_dpi, kPointsPerInch / page.y_dpi);
        cairo_set_source_rgb(cr.get(), 0, 0, 0);
        cairo_mask_surface(cr.get(), mask->get(), 0, 0);
        cairo_restore(cr.get());
        cairo_show_page(cr.get());
        ++summary.pages;
        if (cairo_status_t status = cairo_status(cr.get()); status != CAIRO_STATUS_SUCCESS) {
          return cairo_error("cannot draw page " + std::to_string(index + 1), status);
        }
        return ok_status();
      });
  if (!description) return description.error();
  cr.reset();
  cairo_surface_finish(document.get());
  const bool closed = out.close();
  if (cairo_status_t status = cairo_surface_status(document.get());
      status != CAIRO_STATUS_SUCCESS || !closed) {
    if (status == CAIRO_STATUS_SUCCESS) status = CAIRO_STATUS_WRITE_ERROR;
    Error error = cairo_error("cannot write " + pdf.string(), status);
    error.code = std::make_error_code(std::errc::io_error);  // the disk's fault, not the fax's
    return error;
  }
  summary.tsi = std::move(description.value());
  return summary;
}

}  // namespace bh::render
