// Reads a TIFF (any TIFF libtiff decodes: fax G3/G4, grey, colour, one or
// many pages) into grey pages with their resolution. Used for TIFF
// attachments of a mail (scaled onto fax pages when their resolution or
// width is not the fax's) and for a received fax (turned into a PDF).
// Untrusted input: runs inside the render helper only.
#pragma once

#include <functional>
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

// The same page by page, so a long fax need not be held in memory at
// once: on_page(page, index, count) for each page in order (count is the
// number of pages, known before the first is decoded); an error it returns
// stops the reading and is returned. The result is page one's
// ImageDescription.
using TiffPageSink = std::function<Status(TiffPage&& page, int index, int count)>;
Result<std::string> read_tiff_pages(std::string_view bytes, int max_pages, long long max_pixels,
                                    const TiffPageSink& on_page);

}  // namespace bh::render
