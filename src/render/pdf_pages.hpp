// A PDF attachment rasterised onto fax pages with Poppler (issue 10): each
// PDF page scaled to fit the fax page keeping its aspect ratio, centred
// across and at the top, on white. The page count is checked against the
// budget before any page is rendered. An encrypted or unreadable PDF is a
// RenderFailure 5.6.1 that names the part.
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

// part: how failures name it ("part 2 (application/pdf, \"a.pdf\")").
std::variant<std::vector<Bitmap>, RenderFailure> render_pdf_pages(std::string_view pdf,
                                                                  const PageFormat& format,
                                                                  PageBudget budget,
                                                                  const std::string& part);

}  // namespace bh::render
