#include "connectors/sms/sms_text.hpp"

#include <gmime/gmime.h>
#include <re2/re2.h>

#include <memory>

#include "mail/header_block.hpp"
#include "render/gmime_part.hpp"
#include "render/gobject_ptr.hpp"
#include "render/html_text.hpp"
#include "util/printable.hpp"
#include "util/utf8.hpp"

namespace bh::connectors::sms {
namespace {

using render::decoded_part_bytes;
using render::GPtr;
using render::mime_type_of;

// A mail's MIME tree is walked this deep and this far, no further: the
// body of a real mail is near the top, a hostile one may nest thousands.
constexpr int kMaxMimeDepth = 10;
constexpr int kMaxMimeParts = 100;
// Decoded bytes of the body part that are looked at, before HTML and the
// quotes are removed (an Outlook HTML mail is mostly markup): enough for
// any text that could still be sent after cleaning up.
constexpr std::size_t kMaxPartBytes = 16 * kMaxSmsTextBytes;
// Outlook's reply header: "From: " and, within this many lines, "Sent: ".
constexpr std::size_t kOutlookBlockLines = 4;
// An attribution ("On Mon, 1 Dec 2025, Anna <anna@example.com> wrote:")
// is one line, or two when the mail client wrapped it; longer is text.
constexpr std::size_t kMaxAttributionBytes = 300;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string_view strip(std::string_view line) {
  std::size_t first = line.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  return line.substr(first, line.find_last_not_of(' ') - first + 1);
}

// ---- Clean-up and cutting -------------------------------------------------

// Line endings made "\n"; invalid UTF-8 U+FFFD; controls other than "\n"
// dropped, with a tab (a separator) and U+00A0 (HTML's &nbsp;, which GSM
// 7-bit lacks and would make the SMS UCS2) made a space, U+2028 and U+2029
// a line break, and the invisible U+FEFF and U+200B dropped (Outlook's HTML
// has them; they too would force UCS2).
std::string cleaned(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0) {
      out += kReplacement;
      ++pos;
      continue;
    }
    if (c == '\r' || c == '\n' || c == 0x2028 || c == 0x2029) {
      out += '\n';
      if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++length;
    } else if (c == '\t' || c == 0xA0) {
      out += ' ';
    } else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xFEFF || c == 0x200B) {
      // dropped
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

bool is_attribution(std::string_view text) {
  if (text.size() > kMaxAttributionBytes) return false;
  // English: "On <date>, <name> wrote:"; German: "Am <date> schrieb <name>:".
  if (istarts_with_ascii(text, "On ") && text.ends_with("wrote:")) return true;
  return istarts_with_ascii(text, "Am ") && text.ends_with(":") &&
         (text.find(" schrieb ") != std::string_view::npos || text.ends_with(" schrieb:"));
}

bool is_separator(std::string_view line) {
  line = strip(line);
  std::string_view marks[] = {"-----Original Message-----",
                              "-----Urspr\xC3\xBCngliche Nachricht-----"};
  for (std::string_view mark : marks)
    if (line.find(mark) != std::string_view::npos) return true;
  return false;
}

// Where the quoted mail starts at line i, or npos: a "> " line, an
// attribution (also wrapped over two lines), Outlook's header block
// (with the "____" rule above it) or its "Original Message" separator.
std::size_t quote_start(const std::vector<std::string_view>& lines, std::size_t i) {
  std::string_view line = strip(lines[i]);
  if (line.starts_with('>') || is_separator(line) || is_attribution(line)) return i;
  bool may_begin = istarts_with_ascii(line, "On ") || istarts_with_ascii(line, "Am ");
  if (may_begin && i + 1 < lines.size()) {
    std::string_view next = strip(lines[i + 1]);
    if (!next.empty() && is_attribution(std::string(line) + " " + std::string(next))) return i;
  }
  if (istarts_with_ascii(line, "From: ") || istarts_with_ascii(line, "Von: ")) {
    for (std::size_t k = i + 1; k < lines.size() && k <= i + kOutlookBlockLines; ++k) {
      std::string_view later = strip(lines[k]);
      if (istarts_with_ascii(later, "Sent: ") || istarts_with_ascii(later, "Gesendet: ")) {
        std::size_t start = i;
        while (start > 0 && strip(lines[start - 1]).empty()) --start;
        std::string_view above = start > 0 ? strip(lines[start - 1]) : std::string_view();
        if (above.size() >= 10 && above.find_first_not_of('_') == std::string_view::npos)
          return start - 1;
        return i;
      }
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string trim_text(std::string_view text, const TextRules& rules) {
  std::string clean = cleaned(text);
  std::vector<std::string_view> lines = lines_of(clean);

  // Patterns the kind could not compile were refused with the config; one
  // that fails here anyway is ignored rather than cutting everything.
  std::vector<std::unique_ptr<RE2>> patterns;
  RE2::Options options;
  options.set_log_errors(false);
  for (const std::string& pattern : rules.cut_patterns) {
    auto compiled = std::make_unique<RE2>(pattern, options);
    if (compiled->ok()) patterns.push_back(std::move(compiled));
  }

  std::size_t cut = lines.size();
  for (std::size_t i = 0; i < lines.size() && cut == lines.size(); ++i) {
    if (rules.trim_signature && (lines[i] == "-- " || lines[i] == "--")) cut = i;
    if (rules.trim_quotes) cut = std::min(cut, quote_start(lines, i));
    for (const auto& pattern : patterns)
      if (RE2::PartialMatch(lines[i], *pattern)) cut = std::min(cut, i);
  }

  // Trailing spaces go; runs of blank lines become one; blank lines at the
  // start and end go.
  std::string out;
  bool blank_pending = false;
  for (std::size_t i = 0; i < cut; ++i) {
    std::string_view line = lines[i];
    std::size_t end = line.find_last_not_of(' ');
    line = end == std::string_view::npos ? std::string_view() : line.substr(0, end + 1);
    if (line.empty()) {
      blank_pending = !out.empty();
      continue;
    }
    if (!out.empty()) out += blank_pending ? "\n\n" : "\n";
    blank_pending = false;
    out.append(line);
  }
  return out;
}

namespace {

// ---- The mail -------------------------------------------------------------

// The first kMaxPartBytes of a part (render/gmime_part.hpp stops reading
// there). A cut that split a UTF-8 sequence drops what it kept of it, so
// that the text is still valid UTF-8 (and is not taken for Latin-1).
std::string part_bytes(GMimePart* part, GMimeFilter* filter) {
  std::string bytes = decoded_part_bytes(part, filter, kMaxPartBytes);
  if (bytes.size() < kMaxPartBytes) return bytes;
  for (std::size_t back = 1; back <= 3 && back <= bytes.size(); ++back) {
    auto c = static_cast<unsigned char>(bytes[bytes.size() - back]);
    if (c < 0x80) break;
    if (c < 0xC0) continue;  // a continuation byte: look further back
    std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (back < length) bytes.resize(bytes.size() - back);
    break;
  }
  return bytes;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) append_utf8(out, c);
  return out;
}

// The text of a part as UTF-8 (invalid sequences are replaced later). A
// charset iconv knows is converted (GMime maps the aliases mail clients
// write to iconv's names). Text without a charset, in US-ASCII or in a
// charset nobody knows is taken as UTF-8 when it is valid UTF-8, else as
// ISO-8859-1, which maps every byte: the practice of mail readers.
std::string text_of_part(GMimePart* part) {
  const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  std::string_view name = charset ? charset : "";
  if (iequals_ascii(name, "utf-8") || iequals_ascii(name, "utf8")) return part_bytes(part, nullptr);
  if (!name.empty() && !iequals_ascii(name, "us-ascii")) {
    GPtr<GMimeFilter> filter(
        g_mime_filter_charset_new(g_mime_charset_iconv_name(charset), "UTF-8"));
    if (filter) return part_bytes(part, filter.get());
  }
  std::string raw = part_bytes(part, nullptr);
  return valid_utf8(raw) ? raw : latin1_to_utf8(raw);
}

struct Body {
  GMimePart* part = nullptr;
  bool html = false;
};

// The body: the first text/plain or text/html part that is not an
// attachment, in the mail's order; of a multipart/alternative the plain
// text when there is one. A forwarded mail (message/rfc822) is not the
// body, nor is anything in an encrypted part.
class BodyFinder {
 public:
  Body find(GMimeObject* object, int depth) {
    if (depth > kMaxMimeDepth || ++parts_ > kMaxMimeParts) return {};
    if (GMIME_IS_MULTIPART(object)) {
      GMimeMultipart* multipart = GMIME_MULTIPART(object);
      bool alternative = mime_type_of(object) == "multipart/alternative";
      Body html;
      int count = g_mime_multipart_get_count(multipart);
      for (int i = 0; i < count; ++i) {
        Body found = find(g_mime_multipart_get_part(multipart, i), depth + 1);
        if (!found.part) continue;
        if (!alternative || !found.html) return found;
        if (!html.part) html = found;
      }
      return html;
    }
    if (!GMIME_IS_PART(object)) return {};
    GMimePart* part = GMIME_PART(object);
    if (g_mime_part_is_attachment(part)) return {};
    std::string type = mime_type_of(object);
    if (type == "text/plain") return {part, false};
    if (type == "text/html") return {part, true};
    return {};
  }

 private:
  int parts_ = 0;
};

std::string body_text(GMimeMessage* message) {
  GMimeObject* root = g_mime_message_get_mime_part(message);
  if (!root) return {};
  BodyFinder finder;
  Body body = finder.find(root, 0);
  if (!body.part) return {};
  std::string text = text_of_part(body.part);
  if (body.html) text = render::html_to_text(text);
  return text;
}

}  // namespace

Result<std::string> sms_text_of_mail(std::string_view message, const TextRules& rules) {
  render::init_gmime_once();
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!parsed) return Error{"the mail cannot be parsed as MIME"};

  std::string subject;
  if (rules.source != TextSource::body) {
    // The subject is one line, never cut: only cleaned up (GMime decoded
    // its encoded words and unfolded it).
    const char* decoded = g_mime_message_get_subject(parsed.get());
    TextRules none{TextSource::subject, false, false, {}};
    subject = trim_text(decoded ? decoded : "", none);
    for (char& c : subject)
      if (c == '\n') c = ' ';
  }
  std::string body;
  if (rules.source != TextSource::subject) body = trim_text(body_text(parsed.get()), rules);

  std::string text;
  switch (rules.source) {
    case TextSource::body:
      text = std::move(body);
      break;
    case TextSource::subject:
      text = std::move(subject);
      break;
    case TextSource::subject_and_body:
      text = subject.empty() ? std::move(body)
             : body.empty()  ? std::move(subject)
                             : subject + "\n" + body;
      break;
  }
  if (text.size() > kMaxSmsTextBytes) text.resize(utf8_prefix(text, kMaxSmsTextBytes).size());
  return text;
}

}  // namespace bh::connectors::sms
