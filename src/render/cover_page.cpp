#include "render/cover_page.hpp"

#include <variant>

#include "render/text_pages.hpp"

namespace bh::render {

std::string expand_cover_template(std::string_view text, const CoverFields& fields,
                                  int document_pages) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    std::size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    std::string_view name = text.substr(i + 1, close - i - 1);
    if (name == "sender")
      out += fields.sender;
    else if (name == "recipient")
      out += fields.recipient;
    else if (name == "subject")
      out += fields.subject;
    else if (name == "date")
      out += fields.date;
    else if (name == "pages")
      out += std::to_string(document_pages);
    else {
      out += '{';  // not a field: kept literally, scanning goes on after the '{'
      continue;
    }
    i = close;
  }
  return out;
}

Bitmap render_cover_page(std::string_view text, const CoverFields& fields, int document_pages,
                         const PageFormat& format) {
  TextPageStyle style;
  style.font = std::string(kCoverFont);
  style.margin_mm = 20.0;
  style.truncate_at_budget = true;
  auto laid_out = render_text_pages(expand_cover_template(text, fields, document_pages), format,
                                    style, PageBudget{1, 1});
  auto* pages = std::get_if<TextPages>(&laid_out);
  if (!pages || pages->pages.empty()) return Bitmap(PageFormat::kWidthPx, format.height_px());
  return std::move(pages->pages.front());
}

}  // namespace bh::render
