// HTML to plain text for fax pages (issue 10): what a reader sees, not
// the markup. Scripts, styles and the head are dropped; block elements
// become line breaks (paragraphs and headings a blank line); list items
// get "- "; table cells are separated by a tab; entities (the common named
// ones, &#NNN; and &#xHH;) are decoded to UTF-8; whitespace collapses as a
// browser does it (kept inside <pre>); a link is kept as "text <url>" when
// its text is not the URL. Untrusted input: unterminated tags, comments
// and attributes of any size end the text instead of failing, in time
// linear in the input. Pure.
#pragma once

#include <string>
#include <string_view>

namespace bh::render {

// html: UTF-8 (the MIME layer has converted the charset already).
std::string html_to_text(std::string_view html);

}  // namespace bh::render
