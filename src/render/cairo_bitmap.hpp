// Cairo image surfaces <-> fax page bitmaps, shared by the text, PDF and
// image renderers: every renderer draws on a Cairo surface of the page's
// pixel size and hands the writer the same 8-bit grey Bitmap.
#pragma once

#include <cairo.h>

#include <memory>

#include "render/bitmap.hpp"

namespace bh::render {

struct CairoSurfaceDestroy {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct CairoDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, CairoSurfaceDestroy>;
using CairoPtr = std::unique_ptr<cairo_t, CairoDestroy>;

// A8 (text: the alpha is the ink) or RGB24 (PDF, images: painted white
// first). nullptr when Cairo cannot allocate it.
SurfacePtr new_page_surface(int width, int height, cairo_format_t format);

// 0 black, 255 white: A8 is inverted coverage, RGB24/ARGB32 luminance.
Bitmap bitmap_from_surface(cairo_surface_t* surface);

}  // namespace bh::render
