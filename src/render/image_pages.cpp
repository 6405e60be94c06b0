#include "render/image_pages.hpp"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include <algorithm>
#include <memory>

#include "render/cairo_bitmap.hpp"
#include "render/gobject_ptr.hpp"
#include "render/tiff_read.hpp"

namespace bh::render {
namespace {

constexpr double kAssumedScreenDpi = 96.0;
constexpr int kMaxTiffPages = 10000;  // read_tiff's own bound; the budget is checked per page

// What the loader reports before it decodes: the dimensions, and whether
// they are refused (too many pixels) or the decode is scaled down.
struct SizeCheck {
  long long max_pixels = 0;
  int page_height = 0;
  int width = 0;
  int height = 0;
  bool refused = false;
};

void on_size_prepared(GdkPixbufLoader* loader, int width, int height, gpointer data) {
  auto* check = static_cast<SizeCheck*>(data);
  check->width = width;
  check->height = height;
  if (static_cast<long long>(width) * height > check->max_pixels || width <= 0 || height <= 0) {
    check->refused = true;
    gdk_pixbuf_loader_set_size(loader, 1, 1);  // keep the decoder from allocating it
    return;
  }
  // A photo far larger than the page: decode at about the page's size
  // (JPEG scales while decoding); the physical size still uses the
  // original dimensions.
  double shrink = std::max(static_cast<double>(width) / (2 * PageFormat::kWidthPx),
                           static_cast<double>(height) / (2 * check->page_height));
  if (shrink > 1.0)
    gdk_pixbuf_loader_set_size(loader, std::max(1, static_cast<int>(width / shrink)),
                               std::max(1, static_cast<int>(height / shrink)));
}

double dpi_option(GdkPixbuf* pixbuf, const char* key) {
  const char* value = gdk_pixbuf_get_option(pixbuf, key);
  double dpi = value ? g_ascii_strtod(value, nullptr) : 0.0;
  return (dpi >= 10.0 && dpi <= 4800.0) ? dpi : 0.0;
}

// The pixbuf as grey, composited over white.
Bitmap grey_of(GdkPixbuf* pixbuf) {
  int width = gdk_pixbuf_get_width(pixbuf);
  int height = gdk_pixbuf_get_height(pixbuf);
  int channels = gdk_pixbuf_get_n_channels(pixbuf);
  bool alpha = gdk_pixbuf_get_has_alpha(pixbuf);
  int stride = gdk_pixbuf_get_rowstride(pixbuf);
  const guchar* pixels = gdk_pixbuf_read_pixels(pixbuf);
  Bitmap grey(width, height);
  for (int y = 0; y < height; ++y) {
    const guchar* in = pixels + static_cast<std::size_t>(y) * stride;
    std::uint8_t* out = grey.row(y);
    for (int x = 0; x < width; ++x, in += channels) {
      unsigned luma = (in[0] * 299u + in[1] * 587u + in[2] * 114u) / 1000u;
      if (alpha) luma = (luma * in[3] + 255u * (255u - in[3])) / 255u;
      out[x] = static_cast<std::uint8_t>(luma);
    }
  }
  return grey;
}

std::variant<std::vector<Bitmap>, RenderFailure> pixbuf_pages(std::string_view bytes, PartKind kind,
                                                              const PageFormat& format,
                                                              const RenderLimits& limits,
                                                              const std::string& part) {
  auto refuse = [&](const std::string& why) {
    return RenderFailure{"5.6.1", part + " cannot be faxed: " + why};
  };
  // Only these two decoders, never gdk-pixbuf's guess (which would reach
  // loaders for SVG, ICO, TGA, ... on hostile input); the content's magic
  // wins over the label, since mail clients mislabel PNG and JPEG.
  bool png = bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n" ||
             (kind == PartKind::png && bytes.substr(0, 3) != "\xFF\xD8\xFF");
  GError* error = nullptr;
  GPtr<GdkPixbufLoader> loader(gdk_pixbuf_loader_new_with_type(png ? "png" : "jpeg", &error));
  if (!loader) {
    std::string why = error ? error->message : "no image loader";
    if (error) g_error_free(error);
    return refuse("the image cannot be decoded (" + why + ")");
  }
  SizeCheck check{limits.max_image_pixels, format.height_px()};
  g_signal_connect(loader.get(), "size-prepared", G_CALLBACK(on_size_prepared), &check);
  // Fed in pieces, so a refused size stops the decoding early.
  constexpr std::size_t kChunk = 64 * 1024;
  bool written = true;
  for (std::size_t offset = 0; offset < bytes.size() && written && !check.refused;
       offset += kChunk) {
    std::size_t n = std::min(kChunk, bytes.size() - offset);
    written = gdk_pixbuf_loader_write(
        loader.get(), reinterpret_cast<const guchar*>(bytes.data() + offset), n, &error);
  }
  bool closed = gdk_pixbuf_loader_close(loader.get(), written && !error ? &error : nullptr);
  if (check.refused) {
    if (error) g_error_free(error);
    return RenderFailure{"5.3.4", part + " cannot be faxed: the image is too big (" +
                                      std::to_string(check.width) + " x " +
                                      std::to_string(check.height) + " pixels, at most " +
                                      std::to_string(limits.max_image_pixels) + ")"};
  }
  GdkPixbuf* decoded = gdk_pixbuf_loader_get_pixbuf(loader.get());  // owned by the loader
  if (!written || !closed || !decoded) {
    std::string why = error ? error->message : "damaged image data";
    if (error) g_error_free(error);
    return refuse("the image cannot be decoded (" + why + ")");
  }
  // The physical size comes from the original dimensions and resolution.
  double x_dpi = dpi_option(decoded, "x-dpi");
  double y_dpi = dpi_option(decoded, "y-dpi");
  if (x_dpi == 0) x_dpi = y_dpi;
  if (y_dpi == 0) y_dpi = x_dpi;
  if (x_dpi == 0) x_dpi = y_dpi = kAssumedScreenDpi;
  x_dpi *= static_cast<double>(gdk_pixbuf_get_width(decoded)) / check.width;
  y_dpi *= static_cast<double>(gdk_pixbuf_get_height(decoded)) / check.height;
  // A photo taken sideways says so in its EXIF orientation.
  GPtr<GdkPixbuf> upright(gdk_pixbuf_apply_embedded_orientation(decoded));
  GdkPixbuf* image = upright ? upright.get() : decoded;
  if (upright && gdk_pixbuf_get_width(image) != gdk_pixbuf_get_width(decoded))
    std::swap(x_dpi, y_dpi);
  auto page = place_image_on_page(grey_of(image), x_dpi, y_dpi, format);
  if (!page) return refuse("the image is too large to draw");
  std::vector<Bitmap> pages;
  pages.push_back(std::move(*page));
  return pages;
}

}  // namespace

std::optional<Bitmap> place_image_on_page(const Bitmap& image, double x_dpi, double y_dpi,
                                          const PageFormat& format) {
  // The image as ink (A8: alpha = darkness), masked onto a white page.
  SurfacePtr ink = new_page_surface(image.width, image.height, CAIRO_FORMAT_A8);
  SurfacePtr page = new_page_surface(PageFormat::kWidthPx, format.height_px(), CAIRO_FORMAT_RGB24);
  if (!ink || !page) return std::nullopt;
  cairo_surface_flush(ink.get());
  unsigned char* data = cairo_image_surface_get_data(ink.get());
  int stride = cairo_image_surface_get_stride(ink.get());
  for (int y = 0; y < image.height; ++y) {
    const std::uint8_t* in = image.row(y);
    unsigned char* out = data + static_cast<std::size_t>(y) * stride;
    for (int x = 0; x < image.width; ++x) out[x] = static_cast<unsigned char>(255 - in[x]);
  }
  cairo_surface_mark_dirty(ink.get());

  double width_in = image.width / x_dpi;
  double height_in = image.height / y_dpi;
  double page_width_in = PageFormat::kWidthPx / PageFormat::kXDpi;
  double page_height_in = format.height_px() / format.y_dpi();
  double fit = std::min({1.0, page_width_in / width_in, page_height_in / height_in});
  double x_scale = fit * PageFormat::kXDpi / x_dpi;  // page pixels per image pixel
  double y_scale = fit * format.y_dpi() / y_dpi;

  CairoPtr cr(cairo_create(page.get()));
  cairo_translate(cr.get(), (PageFormat::kWidthPx - image.width * x_scale) / 2, 0);
  cairo_scale(cr.get(), x_scale, y_scale);
  cairo_pattern_t* pattern = cairo_pattern_create_for_surface(ink.get());
  cairo_pattern_set_filter(pattern, CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend(pattern, CAIRO_EXTEND_NONE);
  cairo_set_source_rgb(cr.get(), 0, 0, 0);
  cairo_mask(cr.get(), pattern);
  cairo_pattern_destroy(pattern);
  cr.reset();
  return bitmap_from_surface(page.get());
}

std::variant<std::vector<Bitmap>, RenderFailure> render_image_pages(
    std::string_view bytes, PartKind kind, const PageFormat& format, PageBudget budget,
    const RenderLimits& limits, const std::string& part) {
  if (kind != PartKind::tiff) {
    if (budget.remaining < 1) return too_many_pages(budget.limit);
    return pixbuf_pages(bytes, kind, format, limits, part);
  }
  std::vector<Bitmap> pages;
  std::optional<RenderFailure> failure;
  auto read = read_tiff_pages(
      bytes, kMaxTiffPages, limits.max_image_pixels,
      [&](TiffPage&& page, int, int count) -> Status {
        if (count > budget.remaining) {
          failure = too_many_pages(budget.limit);
          return Error{"too many pages"};
        }
        auto placed = place_image_on_page(page.bitmap, page.x_dpi, page.y_dpi, format);
        if (!placed) {
          failure =
              RenderFailure{"5.6.1", part + " cannot be faxed: a TIFF page is too large to draw"};
          return Error{"too large"};
        }
        pages.push_back(std::move(*placed));
        return ok_status();
      });
  if (failure) return *failure;
  if (!read) return RenderFailure{"5.6.1", part + " cannot be faxed: " + read.error().message};
  return pages;
}

}  // namespace bh::render
