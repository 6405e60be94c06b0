// The bounds of one render (issue 10), in one place. The input is an
// untrusted mail: every stage checks its bound before it spends memory or
// time on the next piece (MIME depth and part count while walking, the
// text length before layout, a PDF's page count before rasterising, an
// image's dimensions before decoding it).
#pragma once

#include <cstddef>
#include <string>

#include "render/render_failure.hpp"

namespace bh::render {

struct RenderLimits {
  int max_mime_depth = 16;                  // nested multiparts and message/rfc822 parts
  int max_mime_parts = 200;                 // leaf parts of the whole mail
  std::size_t max_text_bytes = 1 << 20;     // UTF-8 bytes of one text part, after decoding
  long long max_image_pixels = 60'000'000;  // width x height of one image or TIFF page
};

// How many more pages a stage may produce, and the configured limit its
// failure names.
struct PageBudget {
  int remaining = 50;
  int limit = 50;
};

// The one text for "too many pages", so every stage says it the same way.
inline RenderFailure too_many_pages(int max_pages) {
  return RenderFailure{"5.3.4", "the fax would have more than " + std::to_string(max_pages) +
                                    " pages (the configured limit)"};
}

}  // namespace bh::render
