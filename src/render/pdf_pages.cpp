#include "render/pdf_pages.hpp"

#include <poppler.h>

#include <algorithm>
#include <memory>

#include "render/cairo_bitmap.hpp"
#include "render/gobject_ptr.hpp"

namespace bh::render {
namespace {

RenderFailure unreadable(const std::string& part, const std::string& why) {
  return RenderFailure{"5.6.1", part + " cannot be faxed: " + why};
}

}  // namespace

std::variant<std::vector<Bitmap>, RenderFailure> render_pdf_pages(std::string_view pdf,
                                                                  const PageFormat& format,
                                                                  PageBudget budget,
                                                                  const std::string& part) {
  GBytes* bytes = g_bytes_new(pdf.data(), pdf.size());
  GError* error = nullptr;
  GPtr<PopplerDocument> document(poppler_document_new_from_bytes(bytes, nullptr, &error));
  g_bytes_unref(bytes);  // the document holds its own reference
  if (!document) {
    bool encrypted =
        error && error->domain == POPPLER_ERROR && error->code == POPPLER_ERROR_ENCRYPTED;
    std::string why = encrypted ? "the PDF is encrypted (protected by a password)"
                                : "the PDF cannot be read (" +
                                      std::string(error ? error->message : "unknown error") + ")";
    if (error) g_error_free(error);
    return unreadable(part, why);
  }
  int count = poppler_document_get_n_pages(document.get());
  if (count <= 0) return unreadable(part, "the PDF has no pages");
  if (count > budget.remaining) return too_many_pages(budget.limit);

  // The fax page in points; the device scale maps points to pixels, the
  // y axis at the page's line resolution.
  double page_width_pt = format.width_pt();
  double page_height_pt = format.height_pt();
  double x_px_per_pt = PageFormat::kXDpi / 72.0;
  double y_px_per_pt = format.y_dpi() / 72.0;
  std::vector<Bitmap> pages;
  for (int i = 0; i < count; ++i) {
    GPtr<PopplerPage> page(poppler_document_get_page(document.get(), i));
    if (!page) return unreadable(part, "page " + std::to_string(i + 1) + " of the PDF is damaged");
    double width = 0, height = 0;
    poppler_page_get_size(page.get(), &width, &height);
    if (!(width > 0 && height > 0))
      return unreadable(part, "page " + std::to_string(i + 1) + " has no size");
    double fit = std::min(page_width_pt / width, page_height_pt / height);
    SurfacePtr surface =
        new_page_surface(PageFormat::kWidthPx, format.height_px(), CAIRO_FORMAT_RGB24);
    if (!surface) return RenderFailure{"5.3.4", part + ": out of memory rendering the PDF"};
    CairoPtr cr(cairo_create(surface.get()));
    // The page is thresholded to 1 bit anyway: antialiasing would only cost
    // time (about a third of the render) without changing what is sent.
    cairo_set_antialias(cr.get(), CAIRO_ANTIALIAS_NONE);
    cairo_font_options_t* font_options = cairo_font_options_create();
    cairo_font_options_set_antialias(font_options, CAIRO_ANTIALIAS_NONE);
    cairo_set_font_options(cr.get(), font_options);
    cairo_font_options_destroy(font_options);
    cairo_scale(cr.get(), x_px_per_pt, y_px_per_pt);
    cairo_translate(cr.get(), (page_width_pt - width * fit) / 2, 0);
    cairo_scale(cr.get(), fit, fit);
    cairo_rectangle(cr.get(), 0, 0, width, height);
    cairo_clip(cr.get());
    // For printing: form widgets and annotations as they print, not as a
    // viewer shows them.
    poppler_page_render_for_printing(page.get(), cr.get());
    cr.reset();
    pages.push_back(bitmap_from_surface(surface.get()));
  }
  return pages;
}

}  // namespace bh::render
