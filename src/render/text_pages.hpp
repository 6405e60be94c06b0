// UTF-8 text laid out onto fax pages with Pango on Cairo (issue 10). The
// page is drawn at its pixel size (1728 x 2292 for fine A4) with the y
// axis scaled by y_dpi / x_dpi, so glyphs keep their shape at 98 or 196
// lines per inch. Lines wrap at words, or inside a word that is longer
// than the line; tabs stop every 8 characters (Pango's default); each
// paragraph takes its direction from its first strong character, so
// Arabic and Hebrew paragraphs are right-aligned; fontconfig falls back
// to a font that has the glyph (Noto CJK for Chinese, Japanese, Korean).
// A form feed starts a new page. Pages break between lines.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "render/bitmap.hpp"
#include "render/page_format.hpp"
#include "render/render_failure.hpp"
#include "render/render_limits.hpp"

namespace bh::render {

struct TextPageStyle {
  std::string font = "DejaVu Sans Mono 10";  // Pango font description
  double margin_mm = 10.0;                   // on all four sides
  // true: the text ends where the budget ends (the cover page); false:
  // more pages than the budget is a RenderFailure 5.3.4.
  bool truncate_at_budget = false;
};

struct TextPages {
  std::vector<Bitmap> pages;
  int lines = 0;           // lines drawn, after wrapping
  int unknown_glyphs = 0;  // characters no installed font has (drawn as boxes)
};

std::variant<TextPages, RenderFailure> render_text_pages(std::string_view utf8,
                                                         const PageFormat& format,
                                                         const TextPageStyle& style,
                                                         PageBudget budget);

}  // namespace bh::render
