// PNG, JPEG and TIFF attachments onto fax pages (issue 10): one page per
// image (per page of a multi-page TIFF). An image keeps its physical size
// (its own dpi: a 204 x 98 TIFF on a fine page is stretched x2 vertically,
// a 300 dpi scan shrinks to 204 dpi) and is scaled down, keeping its
// aspect ratio, when it is larger than the page; it is never enlarged.
// PNG and JPEG without a resolution are taken as 96 dpi (the screen
// convention). Placed at the top, centred across, on white. Dimensions are
// checked before the pixels are decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "render/bitmap.hpp"
#include "render/mime_document.hpp"
#include "render/page_format.hpp"
#include "render/render_failure.hpp"
#include "render/render_limits.hpp"

namespace bh::render {

// kind: png, jpeg or tiff; part: how failures name it.
std::variant<std::vector<Bitmap>, RenderFailure> render_image_pages(
    std::string_view bytes, PartKind kind, const PageFormat& format, PageBudget budget,
    const RenderLimits& limits, const std::string& part);

// One grey image at (x_dpi, y_dpi) onto a fresh page by the rule above.
// nullopt when Cairo cannot hold it (wider or taller than 32767 pixels).
std::optional<Bitmap> place_image_on_page(const Bitmap& image, double x_dpi, double y_dpi,
                                          const PageFormat& format);

}  // namespace bh::render
