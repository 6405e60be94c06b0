// Reads a TIFF (any TIFF libtiff decodes: fax G3/G4, grey, colour, one or
// many pages) into grey pages with their resolution. Used for TIFF
// attachments of a mail (scaled onto fax pages when their resolution or
// width is not the fax's) and for a received fax (turned into a PDF).
// Untrusted input: runs inside the render helper only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "render/bitmap.hpp"
#include "util/result.hpp"

namespace bh::render {

struct TiffPage {
  Bitmap bitmap;
  double x_dpi = 204.0;  // from XResolution/ResolutionUnit; 204 x 196 when absent
  double y_dpi = 196.0;
};

struct TiffDocument {
  std::vector<TiffPage> pages;
  std::string description;  // ImageDescription of page one (HylaFAX and spandsp put the TSI there)
};

// max_pages: more pages is an error (a bomb is refused before decoding
// them all); max_pixels: per page.
Result<TiffDocument> read_tiff(std::string_view bytes, int max_pages, long long max_pixels);

}  // namespace bh::render
