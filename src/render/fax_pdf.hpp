// A received fax (a TIFF, usually TIFF-F) becomes a PDF for the mail that
// carries it: one PDF page per fax page, sized by the page's pixels and
// resolution (1728 px at 204 dpi is 215 mm across; 2292 lines at 196 lpi
// are 297 mm), the fax drawn as a 1-bit image (grey pages are thresholded
// the way the fax writer does). Untrusted input: runs in the render helper.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh::render {

struct FaxPdfLimits {
  int max_pages = 200;
  long long max_pixels = 4000LL * 6000;  // per page (A4 at 400 x 400 dpi is 3300 x 4700)
};

struct FaxPdfSummary {
  int pages = 0;
  double width_mm = 0;  // of page one
  double height_mm = 0;
  std::string tsi;  // page one's ImageDescription (where fax servers put the sender's TSI)
};

// An error creating or writing the PDF has a code (errno, or
// std::errc::io_error); an error without one means the TIFF cannot be read
// or exceeds the limits.
Result<FaxPdfSummary> fax_tiff_to_pdf(std::string_view tiff, const std::filesystem::path& pdf,
                                      const FaxPdfLimits& limits);

}  // namespace bh::render
