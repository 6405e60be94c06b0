// A small PNG of a fax page (page one for the success report): the grey
// page scaled to a fixed width, its height corrected for the page's
// resolution (a normal-resolution page has half as many lines per inch as
// pels, so it is stretched to its real aspect).
#pragma once

#include <cstddef>
#include <filesystem>

#include "render/bitmap.hpp"
#include "util/result.hpp"

namespace bh::render {

// The widths a thumbnail may have (the fax connector's
// report_thumbnail_width, the helper's --thumbnail-width), and the largest
// PNG the gateway takes from the helper for a report.
constexpr int kMinThumbnailWidth = 100;
constexpr int kMaxThumbnailWidth = 800;
constexpr std::size_t kMaxThumbnailBytes = 1u << 20;

struct ThumbnailSize {
  int width_px = 300;
};

// Refuses a width outside kMinThumbnailWidth..kMaxThumbnailWidth.

Status write_thumbnail(const Bitmap& page, double x_dpi, double y_dpi,
                       const std::filesystem::path& png, ThumbnailSize size = {});

}  // namespace bh::render
