// A mail becomes fax pages (issue 10): the MIME structure through GMime,
// every text part laid out with Pango, HTML converted to text, PDF pages
// rasterised with Poppler, PNG, JPEG and TIFF images scaled onto pages,
// and an optional cover page in front. Runs only inside the render helper
// (bridgehead-render), never in the gateway: the input is untrusted.
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

// The fields a cover page template may use: {sender} {recipient} {subject}
// {pages} (the document's pages, without the cover) {date}.
struct CoverFields {
  std::string sender;     // the mail's From: (display form)
  std::string recipient;  // the fax number, international format
  std::string subject;    // decoded (RFC 2047) Subject:
  std::string date;       // as the cover shows it
};

struct MailRenderOptions {
  PageFormat format;
  int max_pages = 50;          // the document's pages, without the cover; more: RenderFailure 5.3.4
  std::string cover_template;  // UTF-8 text with {field} placeholders; empty: no cover page
  CoverFields cover;
  bool include_body = true;  // the text body (text/plain or text/html) becomes pages
  std::string font = "DejaVu Sans Mono 10";  // Pango font description of text pages
  RenderLimits limits;                       // MIME depth and parts, text size, image pixels
};

struct RenderedMail {
  std::vector<Bitmap> pages;       // cover first, then the body, then each attachment in MIME order
  int document_pages = 0;          // without the cover
  std::vector<std::string> parts;  // what became pages, for the log: "text/plain (2 pages)"
};

using MailRenderResult = std::variant<RenderedMail, RenderFailure>;

MailRenderResult render_mail(std::string_view message, const MailRenderOptions& options);

}  // namespace bh::render
