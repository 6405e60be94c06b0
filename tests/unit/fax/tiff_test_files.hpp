// Hand-made TIFF files for the gateway's page counter (tiff_pages) and the
// render client's checks: only the structure (header and IFD chain with
// an ImageWidth each), no image data, which the counter never reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bh::connectors::fax::test {

struct TiffLayout {
  bool big_endian = false;
  std::vector<std::uint32_t> widths = {1728};  // one IFD per page
  // The next-IFD offset of the last page; 0 ends the chain. Set to the
  // first IFD's offset (8) for a loop.
  std::uint32_t last_next = 0;
};

inline std::string make_tiff(const TiffLayout& layout) {
  std::string out;
  auto u16 = [&](std::uint16_t v) {
    if (layout.big_endian) {
      out.push_back(static_cast<char>(v >> 8));
      out.push_back(static_cast<char>(v & 0xff));
    } else {
      out.push_back(static_cast<char>(v & 0xff));
      out.push_back(static_cast<char>(v >> 8));
    }
  };
  auto u32 = [&](std::uint32_t v) {
    if (layout.big_endian) {
      u16(static_cast<std::uint16_t>(v >> 16));
      u16(static_cast<std::uint16_t>(v & 0xffff));
    } else {
      u16(static_cast<std::uint16_t>(v & 0xffff));
      u16(static_cast<std::uint16_t>(v >> 16));
    }
  };
  out += layout.big_endian ? "MM" : "II";
  u16(42);
  u32(8);
  constexpr std::uint32_t kIfdBytes = 2 + 2 * 12 + 4;  // two entries
  for (std::size_t i = 0; i < layout.widths.size(); ++i) {
    u16(2);
    u16(256);  // ImageWidth, LONG
    u16(4);
    u32(1);
    u32(layout.widths[i]);
    u16(257);  // ImageLength, SHORT
    u16(3);
    u32(1);
    u16(1100);
    u16(0);
    const bool last = i + 1 == layout.widths.size();
    u32(last ? layout.last_next : static_cast<std::uint32_t>(8 + (i + 1) * kIfdBytes));
  }
  return out;
}

}  // namespace bh::connectors::fax::test
