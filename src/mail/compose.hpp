// Pieces of the mails the gateway composes itself (a received fax or SMS,
// a DSN): untrusted values made safe for a header, header values encoded
// (RFC 2047), mailboxes, and the two transfer encodings of a body. The
// output uses CRLF line endings and keeps within RFC 5322's 78 characters
// a line. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bh {

// UTF-8 text with control characters (C0, DEL, C1) replaced by a space and
// invalid UTF-8 by U+FFFD, cut to at most max_chars code points; spaces
// around it removed.
std::string sanitise_untrusted(std::string_view text, std::size_t max_chars);

// A header value: as it is when printable ASCII, else RFC 2047 "B"
// encoded words (UTF-8, at most 75 characters each, split between code
// points), folded with CRLF SP. `start` is the length of the field name
// and colon already on the line (a long ASCII value is encoded as well).
// text: sanitised (no controls).
std::string encode_header_text(std::string_view text, std::size_t start);

// A display name and address for From/To: "Name" <a@b> (quoted-string)
// when ASCII, else an encoded word phrase; the address on a line of its
// own when the line would pass 78 characters.
std::string mailbox_header(std::string_view display_name, std::string_view address);

// Base64 in lines of 76 characters, each ending with CRLF.
std::string base64_lines(std::string_view bytes);

// RFC 2045 6.7 quoted-printable of CRLF lines: the lines stay lines, soft
// breaks keep each under 77 characters, spaces before a line end are
// encoded. text: CRLF line endings (a lone CR or LF is encoded).
std::string quoted_printable(std::string_view text);

}  // namespace bh
