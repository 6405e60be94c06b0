#include "render/cairo_bitmap.hpp"

namespace bh::render {

SurfacePtr new_page_surface(int width, int height, cairo_format_t format) {
  SurfacePtr surface(cairo_image_surface_create(format, width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) return nullptr;
  if (format != CAIRO_FORMAT_A8) {
    CairoPtr cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
  }
  return surface;
}

Bitmap bitmap_from_surface(cairo_surface_t* surface) {
  cairo_surface_flush(surface);
  int width = cairo_image_surface_get_width(surface);
  int height = cairo_image_surface_get_height(surface);
  int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  Bitmap bitmap(width, height);
  if (!data) return bitmap;
  bool alpha_only = cairo_image_surface_get_format(surface) == CAIRO_FORMAT_A8;
  for (int y = 0; y < height; ++y) {
    const unsigned char* in = data + static_cast<std::size_t>(y) * stride;
    std::uint8_t* out = bitmap.row(y);
    if (alpha_only) {
      for (int x = 0; x < width; ++x) out[x] = static_cast<std::uint8_t>(255 - in[x]);
      continue;
    }
    const auto* pixels = reinterpret_cast<const std::uint32_t*>(in);
    for (int x = 0; x < width; ++x) {
      std::uint32_t p = pixels[x];  // native-endian 0xXXRRGGBB
      unsigned r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF;
      out[x] = static_cast<std::uint8_t>((r * 299 + g * 587 + b * 114) / 1000);
    }
  }
  return bitmap;
}

}  // namespace bh::render
