// One rendered page: 8-bit grey, 0 = black, 255 = white, row-major, at the
// page format's resolution (1728 px across). The TIFF writer thresholds it
// to 1 bit. Pages are drawn into this with Cairo (an A8 or RGB24 surface
// converted), so every renderer hands the writer the same thing.
#pragma once

#include <cstdint>
#include <vector>

namespace bh::render {

struct Bitmap {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height bytes

  Bitmap() = default;
  Bitmap(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, 255) {}
  std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * width; }
  const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * width;
  }
};

}  // namespace bh::render
