#include "render/text_pages.hpp"

#include <pango/pangocairo.h>

#include <memory>

#include "render/cairo_bitmap.hpp"
#include "render/gobject_ptr.hpp"

namespace bh::render {
namespace {

// Line ends normalised to '\n'; C0 controls other than tab, newline and
// form feed (which Pango would draw as hex boxes) dropped.
std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c >= 0x20 || c == '\t' || c == '\n' || c == '\f') {
      if (c != 0x7F) out += static_cast<char>(c);
    }
  }
  return out;
}

// Pango lays out a paragraph as a whole (and silently drops the text of
// a very long one): longer paragraphs are laid out in pieces of at most
// this size, cut after a space, which costs at most a shorter line at the
// cut.
constexpr std::size_t kMaxParagraphBytes = 4096;

std::size_t piece_boundary(const std::string& text, std::size_t start) {
  std::size_t limit = start + kMaxParagraphBytes;
  std::size_t space = text.rfind(' ', limit - 1);
  if (space != std::string::npos && space > start + kMaxParagraphBytes / 2) return space + 1;
  while (limit > start + 1 && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
  return limit;  // a UTF-8 character boundary
}

// Draws lines onto pages, opening a new page when the next line does not
// fit. Coordinates are in x pixels on both axes (the Cairo y scale maps
// them to lines).
class PageWriter {
 public:
  PageWriter(const PageFormat& format, double margin_px, PageBudget budget)
      : format_(format),
        y_scale_(format.y_dpi() / PageFormat::kXDpi),
        margin_(margin_px),
        usable_height_(format.height_px() / y_scale_ - 2 * margin_px),
        budget_(budget) {}

  // false: the budget is spent.
  bool place(PangoLayoutLine* line, const PangoRectangle& logical, int baseline) {
    double height = logical.height / double(PANGO_SCALE);
    if (!cr_ || (y_ > 0 && y_ + height > usable_height_)) {
      if (!new_page()) return false;
    }
    cairo_move_to(cr_.get(), margin_ + logical.x / double(PANGO_SCALE),
                  margin_ + y_ + (baseline - logical.y) / double(PANGO_SCALE));
    pango_cairo_show_layout_line(cr_.get(), line);
    y_ += height;
    return true;
  }
  // A form feed: the next line starts a page (unless the page is empty).
  void break_page() {
    if (cr_ && y_ > 0) y_ = usable_height_ + 1;
  }
  std::vector<Bitmap> finish() {
    close_page();
    return std::move(pages_);
  }

 private:
  bool new_page() {
    close_page();
    if (static_cast<int>(pages_.size()) >= budget_.remaining) return false;
    surface_ = new_page_surface(PageFormat::kWidthPx, format_.height_px(), CAIRO_FORMAT_A8);
    if (!surface_) return false;
    cr_.reset(cairo_create(surface_.get()));
    cairo_scale(cr_.get(), 1.0, y_scale_);
    cairo_set_source_rgba(cr_.get(), 0, 0, 0, 1);
    y_ = 0;
    return true;
  }
  void close_page() {
    if (!cr_) return;
    cr_.reset();
    pages_.push_back(bitmap_from_surface(surface_.get()));
    surface_.reset();
  }

  PageFormat format_;
  double y_scale_;
  double margin_;
  double usable_height_;
  PageBudget budget_;
  SurfacePtr surface_;
  CairoPtr cr_;
  double y_ = 0;
  std::vector<Bitmap> pages_;
};

GPtr<PangoContext> new_context() {
  PangoFontMap* font_map = pango_cairo_font_map_get_default();
  GPtr<PangoContext> context(pango_font_map_create_context(font_map));
  pango_cairo_context_set_resolution(context.get(), PageFormat::kXDpi);
  // Unhinted outlines: the page is scaled vertically, and hinting to the
  // unscaled grid would distort the glyphs.
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(context.get(), options);
  cairo_font_options_destroy(options);
  return context;
}

}  // namespace

std::variant<TextPages, RenderFailure> render_text_pages(std::string_view utf8,
                                                         const PageFormat& format,
                                                         const TextPageStyle& style,
                                                         PageBudget budget) {
  std::string text = printable_text(utf8);
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    char* fixed = g_utf8_make_valid(text.data(), static_cast<gssize>(text.size()));
    text = fixed;
    g_free(fixed);
  }
  double margin_px = style.margin_mm / 25.4 * PageFormat::kXDpi;
  GPtr<PangoContext> context = new_context();
  GPtr<PangoLayout> layout(pango_layout_new(context.get()));
  PangoFontDescription* font = pango_font_description_from_string(style.font.c_str());
  pango_layout_set_font_description(layout.get(), font);
  pango_font_description_free(font);
  pango_layout_set_width(layout.get(),
                         static_cast<int>((PageFormat::kWidthPx - 2 * margin_px) * PANGO_SCALE));
  pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
  pango_layout_set_auto_dir(layout.get(), TRUE);  // RTL paragraphs are also right-aligned
  pango_layout_set_alignment(layout.get(), PANGO_ALIGN_LEFT);

  TextPages result;
  PageWriter writer(format, margin_px, budget);
  bool budget_spent = false;
  // One layout per paragraph: the work per page stays bounded however long
  // the text, and a page break can fall between any two lines.
  std::size_t start = 0;
  while (start <= text.size() && !budget_spent) {
    std::size_t end = text.find_first_of("\n\f", start);
    if (end == std::string::npos) end = text.size();
    std::size_t piece_end = end;
    if (end - start > kMaxParagraphBytes) piece_end = piece_boundary(text, start);
    pango_layout_set_text(layout.get(), text.data() + start, static_cast<int>(piece_end - start));
    result.unknown_glyphs += pango_layout_get_unknown_glyphs_count(layout.get());
    PangoLayoutIter* iter = pango_layout_get_iter(layout.get());
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(iter, nullptr, &logical);
      if (!writer.place(pango_layout_iter_get_line_readonly(iter), logical,
                        pango_layout_iter_get_baseline(iter))) {
        budget_spent = true;
        break;
      }
      ++result.lines;
    } while (pango_layout_iter_next_line(iter));
    pango_layout_iter_free(iter);
    if (piece_end < end) {  // the rest of a long paragraph follows on the next line
      start = piece_end;
      continue;
    }
    if (end < text.size() && text[end] == '\f') writer.break_page();
    start = end + 1;
  }
  if (budget_spent && !style.truncate_at_budget) return too_many_pages(budget.limit);
  result.pages = writer.finish();
  return result;
}

}  // namespace bh::render
