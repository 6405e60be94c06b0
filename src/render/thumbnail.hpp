// A small PNG of a fax page (page one for the success report): the grey
// page scaled to a fixed width, its height corrected for the page's
// resolution (a normal-resolution page has half as many lines per inch as
// pels, so it is stretched to its real aspect).
#pragma once

#include <filesystem>

#include "render/bitmap.hpp"
#include "util/result.hpp"

namespace bh::render {

struct ThumbnailSize {
  int width_px = 300;
};

Status write_thumbnail(const Bitmap& page, double x_dpi, double y_dpi,
                       const std::filesystem::path& png, ThumbnailSize size = {});

}  // namespace bh::render
