// Mail -> SMS text: what of a mail becomes the SMS. GMime 3 parses the
// mail (every charset iconv knows, transfer encodings undone); the body is
// the first text/plain (preferred in multipart/alternative) or text/html
// converted by render/html_text (the same converter the fax uses);
// attachments are ignored. The subject is decoded (RFC 2047). Then the
// text is cleaned up: quoted replies and the signature cut, line endings
// made "\n", runs of blank lines collapsed to one, trailing whitespace and
// leading/trailing blank lines removed, control characters (except "\n")
// dropped, invalid UTF-8 replaced with U+FFFD. Untrusted input, bounded:
// at most kMaxSmsTextBytes of text are kept (far more than max_parts allow,
// so the length check still refuses a text that long).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sms/sms_settings.hpp"
#include "util/result.hpp"

namespace bh::connectors::sms {

inline constexpr std::size_t kMaxSmsTextBytes = 64 * 1024;

struct TextRules {
  TextSource source = TextSource::body;
  bool trim_quotes = true;
  bool trim_signature = true;
  // RE2 patterns (checked by the kind): the first line matching one, and
  // everything after it, is cut ("^Sent from my ", "^-----Original Message").
  std::vector<std::string> cut_patterns;
};

// Cutting, on UTF-8 text with "\n" line endings (exposed for tests):
// - quotes: from the first line that starts with ">" (after spaces) or is
//   an attribution ("On <...> wrote:", "Am <...> schrieb <...>:") or starts
//   Outlook's header block ("From: " / "Von: " followed within 4 lines by
//   "Sent: " / "Gesendet: "), or "-----Original Message-----" /
//   "-----Ursprüngliche Nachricht-----", to the end;
// - signature: from the line that is exactly "-- " (or "--"), to the end.
std::string trim_text(std::string_view text, const TextRules& rules);

// The SMS text of a mail (header and body, CRLF). subject_and_body: the
// subject, a newline, then the body (only the one that is not empty when
// the other is). An error: the mail cannot be parsed as MIME at all (GMime
// gave no message); an empty result is not an error (the caller decides).
Result<std::string> sms_text_of_mail(std::string_view message, const TextRules& rules);

}  // namespace bh::connectors::sms
