// The fax page Bridgehead renders to: TIFF Class F geometry (T.4). Every
// page is 1728 pels across (215 mm at 204 dpi); its height in lines follows
// the paper and the vertical resolution. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace bh::render {

enum class Paper { a4, letter };
enum class Resolution { fine, normal };  // 196 or 98 lines per inch
enum class Compression { g3, g4 };       // T.4 2-D (MR) or T.6 (MMR)

struct PageFormat {
  Paper paper = Paper::a4;
  Resolution resolution = Resolution::fine;
  Compression compression = Compression::g4;

  static constexpr int kWidthPx = 1728;
  static constexpr double kXDpi = 204.0;
  double y_dpi() const { return resolution == Resolution::fine ? 196.0 : 98.0; }
  // A4 297 mm, Letter 11 in: A4 fine 2292 lines, normal 1146; Letter
  // fine 2156, normal 1078.
  int height_px() const {
    if (paper == Paper::a4) return resolution == Resolution::fine ? 2292 : 1146;
    return resolution == Resolution::fine ? 2156 : 1078;
  }
  // The page in PostScript points (1/72 in) for PDF output: 1728 px at
  // 204 dpi across, the paper's length down.
  double width_pt() const { return kWidthPx / kXDpi * 72.0; }
  double height_pt() const { return height_px() / y_dpi() * 72.0; }
};

inline std::optional<Paper> paper_from(std::string_view name) {
  if (name == "a4") return Paper::a4;
  if (name == "letter") return Paper::letter;
  return std::nullopt;
}
inline std::optional<Resolution> resolution_from(std::string_view name) {
  if (name == "fine") return Resolution::fine;
  if (name == "normal") return Resolution::normal;
  return std::nullopt;
}
inline std::optional<Compression> compression_from(std::string_view name) {
  if (name == "g3") return Compression::g3;
  if (name == "g4") return Compression::g4;
  return std::nullopt;
}
inline std::string_view paper_name(Paper p) {
  return p == Paper::a4 ? "a4" : "letter";
}
inline std::string_view resolution_name(Resolution r) {
  return r == Resolution::fine ? "fine" : "normal";
}
inline std::string_view compression_name(Compression c) {
  return c == Compression::g3 ? "g3" : "g4";
}

}  // namespace bh::render
