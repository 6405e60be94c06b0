// Helpers of the render tests: measuring ink on pages, building MIME
// mails, writing and comparing golden PNGs.
#pragma once

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "render/bitmap.hpp"
#include "render/cairo_bitmap.hpp"
#include "tests/unit/temp_dir.hpp"

namespace bh::render::test {

// Share of dark pixels (< 128) in [x0, x1) x [y0, y1).
inline double ink(const Bitmap& page, int x0, int y0, int x1, int y1) {
  long long dark = 0, total = 0;
  for (int y = std::max(0, y0); y < std::min(page.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(page.width, x1); ++x, ++total)
      if (page.row(y)[x] < 128) ++dark;
  return total ? static_cast<double>(dark) / total : 0.0;
}
inline double ink(const Bitmap& page) {
  return ink(page, 0, 0, page.width, page.height);
}

// Rows that have ink, as [first, last] of each band of consecutive inked rows.
inline std::vector<std::pair<int, int>> ink_bands(const Bitmap& page) {
  std::vector<std::pair<int, int>> bands;
  bool in_band = false;
  for (int y = 0; y < page.height; ++y) {
    bool any = false;
    for (int x = 0; x < page.width && !any; ++x) any = page.row(y)[x] < 128;
    if (any && !in_band) bands.push_back({y, y});
    if (any) bands.back().second = y;
    in_band = any;
  }
  return bands;
}

// The lines of a text page: ink bands at least `min_rows` high (the
// dots of an "Ä" above a line are a thin band of their own).
inline std::vector<std::pair<int, int>> text_lines(const Bitmap& page, int min_rows = 8) {
  std::vector<std::pair<int, int>> lines;
  for (auto band : ink_bands(page))
    if (band.second - band.first + 1 >= min_rows) lines.push_back(band);
  return lines;
}

// Leftmost and rightmost inked column in rows [y0, y1); {-1, -1} when none.
inline std::pair<int, int> ink_columns(const Bitmap& page, int y0, int y1) {
  int left = -1, right = -1;
  for (int y = std::max(0, y0); y < std::min(page.height, y1); ++y)
    for (int x = 0; x < page.width; ++x)
      if (page.row(y)[x] < 128) {
        if (left < 0 || x < left) left = x;
        if (x > right) right = x;
      }
  return {left, right};
}

inline std::string base64(std::string_view bytes) {
  gchar* encoded = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
  std::string text(encoded);
  g_free(encoded);
  std::string wrapped;
  for (std::size_t i = 0; i < text.size(); i += 76) wrapped += text.substr(i, 76) + "\r\n";
  return wrapped;
}

struct MimePart {
  std::string headers;  // "Content-Type: ...\r\n..."
  std::string body;
};

inline std::string mail(std::string_view top_headers, std::string_view body) {
  return "From: Alice <alice@example.com>\r\nTo: +4930123456@fax.example.com\r\n"
         "Subject: Test\r\nMIME-Version: 1.0\r\n" +
         std::string(top_headers) + "\r\n" + std::string(body);
}

inline std::string multipart(std::string_view subtype, const std::vector<MimePart>& parts,
                             std::string_view boundary = "b0undary") {
  std::string body;
  for (const auto& part : parts)
    body += "--" + std::string(boundary) + "\r\n" + part.headers + "\r\n" + part.body + "\r\n";
  body += "--" + std::string(boundary) + "--\r\n";
  return "Content-Type: multipart/" + std::string(subtype) + "; boundary=\"" +
         std::string(boundary) + "\"\r\n\r\n" + body;
}

inline MimePart attachment(std::string_view type, std::string_view filename,
                           std::string_view bytes) {
  return {"Content-Type: " + std::string(type) + "; name=\"" + std::string(filename) +
              "\"\r\nContent-Disposition: attachment; filename=\"" + std::string(filename) +
              "\"\r\nContent-Transfer-Encoding: base64\r\n",
          base64(bytes)};
}

inline MimePart text_part(std::string_view type, std::string_view charset, std::string_view text,
                          std::string_view encoding = "8bit") {
  return {"Content-Type: " + std::string(type) + "; charset=" + std::string(charset) +
              "\r\nContent-Transfer-Encoding: " + std::string(encoding) + "\r\n",
          std::string(text)};
}

inline cairo_status_t append_to_string(void* closure, const unsigned char* data,
                                       unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A PDF of `pages` A4 pages, page n with a black bar n/10 of the page
// high at its top, drawn with Cairo's PDF surface.
inline std::string make_pdf(int pages, double width_pt = 595.0, double height_pt = 842.0) {
  std::string pdf;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(append_to_string, &pdf, width_pt, height_pt);
  cairo_t* cr = cairo_create(surface);
  for (int n = 1; n <= pages; ++n) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, 0, 0, width_pt, height_pt * n / 10.0);
    cairo_fill(cr);
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
  return pdf;
}

// A PNG of width x height: black left half, white right half.
inline std::string make_png(int width, int height) {
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  CairoPtr cr(cairo_create(surface.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  cairo_set_source_rgb(cr.get(), 0, 0, 0);
  cairo_rectangle(cr.get(), 0, 0, width / 2.0, height);
  cairo_fill(cr.get());
  cr.reset();
  std::string png;
  cairo_surface_write_to_png_stream(surface.get(), append_to_string, &png);
  return png;
}

using bh::test::TempDir;

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace bh::render::test
