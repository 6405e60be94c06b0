// The MIME side of a fax (issue 10): which parts of a mail become pages,
// in which order, decoded. GMime 3 parses the mail; transfer encodings are
// undone and every text is converted to UTF-8. The result is the body
// (text/plain preferred over text/html in multipart/alternative), then the
// attachments in MIME order. A part that cannot be faxed refuses the whole
// mail with a text that names it:
//   part 3 (application/zip, "report.zip") cannot be faxed: only text,
//   HTML, PDF, TIFF, PNG and JPEG can
// Part numbers count the leaf parts of the mail depth-first, 1-based,
// including those that are skipped (the HTML alternative, a signature), so
// the number matches what a MIME viewer lists. Untrusted input: bounded by
// RenderLimits (nesting depth, part count, text size).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "render/render_failure.hpp"
#include "render/render_limits.hpp"

namespace bh::render {

enum class PartKind { plain_text, html, pdf, tiff, png, jpeg };

struct DocumentPart {
  int number = 0;            // in MIME order, see above
  std::string content_type;  // "application/pdf", lower case
  std::string filename;      // as given (decoded), may be empty
  PartKind kind = PartKind::plain_text;
  bool is_body = false;  // the mail's text, not an attachment
  std::string data;      // UTF-8 for plain_text and html; the decoded bytes otherwise
};

struct MailDocument {
  std::vector<DocumentPart> parts;  // body first (when there is one), then attachments
};

// include_body false: the text body is left out (attachments only).
std::variant<MailDocument, RenderFailure> parse_mail_document(std::string_view message,
                                                              const RenderLimits& limits,
                                                              bool include_body = true);

// "part 3 (application/zip, \"report.zip\")": how a failure names a part.
// The filename comes from the mail: control characters and quotes are
// replaced, long names shortened.
std::string describe_part(int number, std::string_view content_type, std::string_view filename);

}  // namespace bh::render
