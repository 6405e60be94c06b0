#include "render/thumbnail.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

namespace bh::render {
namespace {

struct SurfaceDestroy {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDestroy>;

Error cairo_error(const std::string& what, cairo_status_t status) {
  return Error{what + ": " + cairo_status_to_string(status)};
}

// The grey page as an RGB24 surface (cairo has no 8-bit grey format
// that it scales as colour).
Result<Surface> grey_surface(const Bitmap& page) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, page.width, page.height));
  if (cairo_status_t status = cairo_surface_status(surface.get()); status != CAIRO_STATUS_SUCCESS) {
    return cairo_error("cannot create the thumbnail's source", status);
  }
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < page.height; ++y) {
    auto* out = reinterpret_cast<uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    const std::uint8_t* grey = page.row(y);
    for (int x = 0; x < page.width; ++x) {
      const uint32_t g = grey[x];
      out[x] = 0xff000000u | (g << 16) | (g << 8) | g;
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

}  // namespace

Status write_thumbnail(const Bitmap& page, double x_dpi, double y_dpi,
                       const std::filesystem::path& png, ThumbnailSize size) {
  if (page.width <= 0 || page.height <= 0 || x_dpi <= 0 || y_dpi <= 0) {
    return Error{"no page for a thumbnail"};
  }
  if (size.width_px < kMinThumbnailWidth || size.width_px > kMaxThumbnailWidth) {
    return Error{"a thumbnail is " + std::to_string(kMinThumbnailWidth) + " to " +
                 std::to_string(kMaxThumbnailWidth) + " pixels wide, not " +
                 std::to_string(size.width_px)};
  }
  const double scale_x = static_cast<double>(size.width_px) / page.width;
  // The page's real height in pels of its horizontal resolution.
  const double scale_y = scale_x * x_dpi / y_dpi;
  const int height_px = std::max(1, static_cast<int>(std::lround(page.height * scale_y)));

  auto source = grey_surface(page);
  if (!source) return source.error();
  Surface thumbnail(cairo_image_surface_create(CAIRO_FORMAT_RGB24, size.width_px, height_px));
  std::unique_ptr<cairo_t, ContextDestroy> cr(cairo_create(thumbnail.get()));
  cairo_scale(cr.get(), scale_x, scale_y);
  cairo_set_source_surface(cr.get(), source->get(), 0, 0);
  // GOOD averages over the source pixels when shrinking, so thin strokes
  // turn grey instead of vanishing.
  cairo_pattern_set_filter(cairo_get_source(cr.get()), CAIRO_FILTER_GOOD);
  cairo_paint(cr.get());
  if (cairo_status_t status = cairo_status(cr.get()); status != CAIRO_STATUS_SUCCESS) {
    return cairo_error("cannot draw the thumbnail", status);
  }
  cr.reset();
  if (cairo_status_t status = cairo_surface_write_to_png(thumbnail.get(), png.c_str());
      status != CAIRO_STATUS_SUCCESS) {
    return cairo_error("cannot write " + png.string(), status);
  }
  return ok_status();
}

}  // namespace bh::render
