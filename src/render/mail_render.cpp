#include "render/mail_render.hpp"

#include "render/cover_page.hpp"
#include "render/html_text.hpp"
#include "render/image_pages.hpp"
#include "render/mime_document.hpp"
#include "render/pdf_pages.hpp"
#include "render/text_pages.hpp"

namespace bh::render {
namespace {

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f") == std::string_view::npos;
}

std::string pages_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " page" : " pages");
}

std::variant<std::vector<Bitmap>, RenderFailure> pages_of(const DocumentPart& part,
                                                          const MailRenderOptions& options,
                                                          PageBudget budget) {
  std::string name = describe_part(part.number, part.content_type, part.filename);
  switch (part.kind) {
    case PartKind::plain_text:
    case PartKind::html: {
      std::string text = part.kind == PartKind::html ? html_to_text(part.data) : part.data;
      if (is_blank(text)) return std::vector<Bitmap>{};
      TextPageStyle style;
      style.font = options.font;
      auto laid_out = render_text_pages(text, options.format, style, budget);
      if (auto* failure = std::get_if<RenderFailure>(&laid_out)) return *failure;
      return std::move(std::get<TextPages>(laid_out).pages);
    }
    case PartKind::pdf:
      return render_pdf_pages(part.data, options.format, budget, name);
    case PartKind::tiff:
    case PartKind::png:
    case PartKind::jpeg:
      return render_image_pages(part.data, part.kind, options.format, budget, options.limits, name);
  }
  return RenderFailure{"5.6.1", name + " cannot be faxed"};
}

}  // namespace

// A mail with nothing to fax (no text, or only whitespace, and no
// attachment that becomes pages) is faxed as its cover page alone when a
// cover template is configured: "subject only" mails are a common way to
// send a short fax, and the subject is on the cover. Without a cover page
// it is refused (5.6.1): a blank fax costs a call and tells the recipient
// nothing.
MailRenderResult render_mail(std::string_view message, const MailRenderOptions& options) {
  auto parsed = parse_mail_document(message, options.limits, options.include_body);
  if (auto* failure = std::get_if<RenderFailure>(&parsed)) return *failure;
  const MailDocument& document = std::get<MailDocument>(parsed);

  RenderedMail rendered;
  std::vector<Bitmap> document_pages;
  for (const DocumentPart& part : document.parts) {
    PageBudget budget{options.max_pages - static_cast<int>(document_pages.size()),
                      options.max_pages};
    auto pages = pages_of(part, options, budget);
    if (auto* failure = std::get_if<RenderFailure>(&pages)) return *failure;
    auto& new_pages = std::get<std::vector<Bitmap>>(pages);
    if (new_pages.empty()) continue;  // a blank text
    if (static_cast<int>(document_pages.size() + new_pages.size()) > options.max_pages)
      return too_many_pages(options.max_pages);
    std::string label = part.is_body ? "body " + part.content_type
                                     : describe_part(part.number, part.content_type, part.filename);
    rendered.parts.push_back(label + ": " + pages_text(new_pages.size()));
    for (auto& page : new_pages) document_pages.push_back(std::move(page));
  }

  bool with_cover = !options.cover_template.empty();
  if (document_pages.empty() && !with_cover)
    return RenderFailure{"5.6.1",
                         "the mail has nothing to fax: no text and no PDF, TIFF, PNG or JPEG "
                         "attachment"};
  rendered.document_pages = static_cast<int>(document_pages.size());
  if (with_cover) {
    rendered.pages.push_back(render_cover_page(options.cover_template, options.cover,
                                               rendered.document_pages, options.format));
    rendered.parts.insert(rendered.parts.begin(), "cover: 1 page");
  }
  for (auto& page : document_pages) rendered.pages.push_back(std::move(page));
  return rendered;
}

}  // namespace bh::render
