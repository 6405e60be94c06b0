// Rendered pages become one multi-page TIFF Class F file (RFC 2306): 1728
// pels across, 1 bit per pixel, min-is-white, CCITT G3 2-D (with EOL
// padding) or G4, 204 x 196 or 204 x 98 dpi, one strip per page, page
// numbers. What HylaFAX and spandsp send as they are.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "render/bitmap.hpp"
#include "render/page_format.hpp"
#include "util/result.hpp"

namespace bh::render {

// Grey pages (bitmap.hpp) are thresholded: a pixel darker than 128 is
// black. No dithering: the renderers draw text, which dithering would
// only fray, and images they scale are drawn already at fax resolution.
// Every page must be PageFormat::kWidthPx wide. description: written as
// ImageDescription of every page when not empty (a TSI, for tests and
// received faxes). The error's code is the errno of a failed write
// (no_space_on_device for a full disk), else empty.
Status write_fax_tiff(const std::vector<Bitmap>& pages, const PageFormat& format,
                      const std::filesystem::path& path, std::string_view description = {});

// One grey row to packed 1-bit min-is-white (MSB first): `out` holds
// (width + 7) / 8 bytes. Exposed for tests.
void pack_row_min_is_white(const std::uint8_t* grey, int width, std::uint8_t* out);

}  // namespace bh::render
