// The decoders the webhook's MIME walker needs: base64 (both ways),
// quoted-printable, Latin-1 to UTF-8, RFC 2047 encoded words and RFC 2231
// parameter values. Lenient where RFC 2045 says to be (invalid base64
// characters are skipped), never reading past their input. Pure.
#pragma once

#include <string>
#include <string_view>

namespace bh::connectors::webhook {

void append_base64(std::string& out, std::string_view bytes);
std::string decode_base64(std::string_view text);
std::string decode_quoted_printable(std::string_view text);
// Content-Transfer-Encoding applied backwards: base64, quoted-printable, or
// the text as it is (7bit, 8bit, binary, unknown).
std::string decode_transfer(std::string_view text, std::string_view encoding);

// Text in `charset` as UTF-8, as far as this small walker knows charsets:
// UTF-8 and US-ASCII as they are, ISO-8859-1 (and its aliases, and
// windows-1252 read as ISO-8859-1) converted; anything else as it is (the
// JSON writer replaces what is not UTF-8).
std::string to_utf8(std::string_view text, std::string_view charset);

// A header value with its RFC 2047 encoded words ("=?utf-8?B?...?=",
// "=?iso-8859-1?Q?...?=") decoded; words in charsets to_utf8 does not know
// are left as written.
std::string decode_encoded_words(std::string_view value);

// An RFC 2231 extended value "utf-8'en'%E2%82%AC" decoded to UTF-8.
std::string decode_rfc2231(std::string_view value);

}  // namespace bh::connectors::webhook
