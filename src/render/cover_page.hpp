// The cover page (issue 10): a UTF-8 template with {sender} {recipient}
// {subject} {pages} {date}, laid out like a text page in a larger font. An
// unknown {name} stays as written; "{{" is a literal "{" (and "}}" a
// literal "}"). A template longer than a page is cut at the page's end.
#pragma once

#include <string>
#include <string_view>

#include "render/bitmap.hpp"
#include "render/mail_render.hpp"
#include "render/page_format.hpp"

namespace bh::render {

inline constexpr std::string_view kCoverFont = "DejaVu Sans 14";

// The template with its fields filled in. Pure.
std::string expand_cover_template(std::string_view text, const CoverFields& fields,
                                  int document_pages);

Bitmap render_cover_page(std::string_view text, const CoverFields& fields, int document_pages,
                         const PageFormat& format);

}  // namespace bh::render
