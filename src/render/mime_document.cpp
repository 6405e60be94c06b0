#include "render/mime_document.hpp"
#include "render/gmime_part.hpp"
#include "render/gobject_ptr.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>

namespace bh::render {
namespace {

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  });
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string valid_utf8(const std::string& text) {
  if (g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) return text;
  char* fixed = g_utf8_make_valid(text.data(), static_cast<gssize>(text.size()));
  std::string result(fixed);
  g_free(fixed);
  return result;
}

// The text of a part as UTF-8. Any charset iconv knows is converted (GMime
// maps the aliases mail clients use to iconv's names). A part without a
// charset is taken as UTF-8 when it is valid UTF-8; otherwise, and for a
// charset nobody knows, ISO-8859-1 is assumed: it maps every byte, which
// is the common practice of mail readers for unlabelled 8-bit text.
// HTML without a MIME charset may name it itself (<meta charset="...">
// or http-equiv content="text/html; charset=..."), near its start.
std::string html_meta_charset(std::string_view html) {
  std::string head = to_lower(std::string(html.substr(0, 4096)));
  std::size_t at = head.find("charset=");
  if (at == std::string::npos) return {};
  std::size_t i = at + 8;
  while (i < head.size() && (head[i] == '"' || head[i] == '\'' || head[i] == ' ')) ++i;
  std::size_t end = i;
  while (end < head.size() && end - i < 40 &&
         (std::isalnum(static_cast<unsigned char>(head[end])) || head[end] == '-' ||
          head[end] == '_' || head[end] == '.' || head[end] == ':'))
    ++end;
  return head.substr(i, end - i);
}

std::string decoded_text(GMimePart* part, bool html) {
  const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  std::string declared;
  if (!charset) {
    std::string raw = decoded_part_bytes(part, nullptr);
    if (html) declared = html_meta_charset(raw);
    if (declared.empty()) {
      if (g_utf8_validate(raw.data(), static_cast<gssize>(raw.size()), nullptr)) return raw;
      declared = "iso-8859-1";
    }
    charset = declared.c_str();
  }
  const char* iconv_name = g_mime_charset_iconv_name(charset);
  GPtr<GMimeFilter> filter(g_mime_filter_charset_new(iconv_name, "UTF-8"));
  if (!filter) filter.reset(g_mime_filter_charset_new("iso-8859-1", "UTF-8"));
  return valid_utf8(decoded_part_bytes(part, filter.get()));
}

bool has_magic(std::string_view data, PartKind kind) {
  switch (kind) {
    case PartKind::pdf:
      return data.substr(0, 1024).find("%PDF-") != std::string_view::npos;
    case PartKind::tiff:
      return data.substr(0, 4) == std::string_view("II*\0", 4) ||
             data.substr(0, 4) == std::string_view("MM\0*", 4);
    case PartKind::png:
      return data.substr(0, 8) == "\x89PNG\r\n\x1a\n";
    case PartKind::jpeg:
      return data.substr(0, 3) == "\xFF\xD8\xFF";
    default:
      return false;
  }
}

std::optional<PartKind> kind_of_type(std::string_view type) {
  if (type == "application/pdf" || type == "application/x-pdf") return PartKind::pdf;
  if (type == "image/tiff" || type == "image/tif" || type == "image/x-tiff") return PartKind::tiff;
  if (type == "image/png" || type == "image/x-png") return PartKind::png;
  if (type == "image/jpeg" || type == "image/jpg" || type == "image/pjpeg") return PartKind::jpeg;
  return std::nullopt;
}

std::optional<PartKind> kind_of_filename(std::string filename) {
  filename = to_lower(std::move(filename));
  if (ends_with(filename, ".pdf")) return PartKind::pdf;
  if (ends_with(filename, ".tif") || ends_with(filename, ".tiff")) return PartKind::tiff;
  if (ends_with(filename, ".png")) return PartKind::png;
  if (ends_with(filename, ".jpg") || ends_with(filename, ".jpeg")) return PartKind::jpeg;
  return std::nullopt;
}

bool is_signature(std::string_view type) {
  return type == "application/pkcs7-signature" || type == "application/x-pkcs7-signature" ||
         type == "application/pgp-signature";
}

// Texts a mail may carry that read well as text: text/* and the machine
// readable reports of DSNs and read receipts.
bool is_text(std::string_view type) {
  return type.substr(0, 5) == "text/" || type == "message/delivery-status" ||
         type == "message/disposition-notification";
}

std::string header_block_of(GMimeMessage* message) {
  std::string block = "---------- Forwarded message ----------\n";
  if (InternetAddressList* from = g_mime_message_get_from(message)) {
    char* text = internet_address_list_to_string(from, nullptr, FALSE);
    if (text && *text) block += "From: " + std::string(text) + "\n";
    g_free(text);
  }
  if (GDateTime* date = g_mime_message_get_date(message)) {
    char* text = g_date_time_format(date, "%Y-%m-%d %H:%M %z");
    if (text) block += "Date: " + std::string(text) + "\n";
    g_free(text);
  }
  if (const char* subject = g_mime_message_get_subject(message))
    block += "Subject: " + std::string(subject) + "\n";
  return valid_utf8(block) + "\n";
}

enum class Mode { emit, skip };

class Walker {
 public:
  Walker(const RenderLimits& limits, bool include_body)
      : limits_(limits), include_body_(include_body) {}

  std::optional<RenderFailure> walk(GMimeObject* object, int depth, Mode mode, bool top_level) {
    if (failure_) return failure_;
    if (depth > limits_.max_mime_depth)
      return fail("5.6.1", "the mail's MIME structure is nested more than " +
                               std::to_string(limits_.max_mime_depth) + " levels deep");
    if (GMIME_IS_MULTIPART(object))
      return walk_multipart(GMIME_MULTIPART(object), depth, mode, top_level);
    if (GMIME_IS_MESSAGE_PART(object)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      GMimeObject* body = inner ? g_mime_message_get_mime_part(inner) : nullptr;
      if (!body) return leaf(object, mode, top_level);
      // A forwarded mail (message/rfc822) is faxed like a mail of its own:
      // its headers and text, then its attachments; its texts are never the
      // outer mail's body.
      std::optional<std::string> saved = std::move(forward_header_);
      forward_header_ = mode == Mode::emit ? std::optional(header_block_of(inner)) : std::nullopt;
      auto result = walk(body, depth + 1, mode, false);
      if (!result && forward_header_)
        emit_text(0, "message/rfc822", "", *forward_header_, PartKind::plain_text, false);
      forward_header_ = std::move(saved);
      return result;
    }
    return leaf(object, mode, top_level);
  }

  std::vector<DocumentPart> take_parts() {
    std::stable_partition(parts_.begin(), parts_.end(),
                          [](const DocumentPart& p) { return p.is_body; });
    return std::move(parts_);
  }

 private:
  std::optional<RenderFailure> walk_multipart(GMimeMultipart* multipart, int depth, Mode mode,
                                              bool top_level) {
    GMimeObject* object = GMIME_OBJECT(multipart);
    std::string type = mime_type_of(object);
    int count = g_mime_multipart_get_count(multipart);
    if (mode == Mode::emit && GMIME_IS_MULTIPART_ENCRYPTED(object))
      return fail("5.6.1", "the mail is encrypted (" + type + ") and cannot be faxed");
    int chosen = -1;  // the one child emitted; -1: all
    if (type == "multipart/alternative") {
      chosen = preferred_alternative(multipart);
    } else if (GMIME_IS_MULTIPART_SIGNED(object) || type == "multipart/related") {
      // Signed: the content, not the signature. Related: the root (an
      // HTML text); the rest are its inline resources, which the text
      // rendering of the HTML does not show.
      chosen = 0;
    }
    for (int i = 0; i < count; ++i) {
      Mode child_mode = (chosen < 0 || chosen == i) ? mode : Mode::skip;
      if (auto failure =
              walk(g_mime_multipart_get_part(multipart, i), depth + 1, child_mode, top_level))
        return failure;
    }
    return std::nullopt;
  }

  // text/plain, else text/html, else the last (the richest, RFC 2046).
  static int preferred_alternative(GMimeMultipart* multipart) {
    int count = g_mime_multipart_get_count(multipart);
    for (std::string_view wanted : {"text/plain", "text/html"})
      for (int i = 0; i < count; ++i)
        if (mime_type_of(g_mime_multipart_get_part(multipart, i)) == wanted) return i;
    return count - 1;
  }

  std::optional<RenderFailure> leaf(GMimeObject* object, Mode mode, bool top_level) {
    int number = ++leaf_count_;
    if (leaf_count_ > limits_.max_mime_parts)
      return fail("5.6.1", "the mail has more than " + std::to_string(limits_.max_mime_parts) +
                               " MIME parts");
    if (mode == Mode::skip) return std::nullopt;
    std::string type = mime_type_of(object);
    if (is_signature(type)) return std::nullopt;  // an S/MIME or PGP signature is not content
    if (!GMIME_IS_PART(object))
      return fail("5.6.1", describe_part(number, type, "") +
                               " cannot be faxed: only text, HTML, PDF, TIFF, PNG and JPEG can");
    GMimePart* part = GMIME_PART(object);
    const char* name = g_mime_part_get_filename(part);
    std::string filename = name ? valid_utf8(name) : "";
    if (is_text(type)) {
      bool attachment = g_mime_part_is_attachment(part) || !top_level;
      bool body_candidate =
          top_level && !attachment && !body_seen_ && (type == "text/plain" || type == "text/html");
      std::string text = decoded_text(part, type == "text/html");
      if (text.size() > limits_.max_text_bytes)
        return fail("5.3.4", describe_part(number, type, filename) +
                                 " is too long to fax (more than " +
                                 std::to_string(limits_.max_text_bytes) + " bytes of text)");
      PartKind kind = type == "text/html" ? PartKind::html : PartKind::plain_text;
      if (body_candidate) {
        body_seen_ = true;
        if (!include_body_) return std::nullopt;
      }
      emit_text(number, type, filename, std::move(text), kind, body_candidate);
      return std::nullopt;
    }
    std::optional<PartKind> kind = kind_of_type(type);
    std::string data;
    if (!kind && type == "application/octet-stream") {
      // Mail clients label many attachments octet-stream: the file name
      // and the content must agree on what it is.
      if (auto by_name = kind_of_filename(filename)) {
        data = decoded_part_bytes(part, nullptr);
        if (has_magic(data, *by_name)) kind = by_name;
      }
    }
    if (!kind)
      return fail("5.6.1", describe_part(number, type, filename) +
                               " cannot be faxed: only text, HTML, PDF, TIFF, PNG and JPEG can");
    if (data.empty()) data = decoded_part_bytes(part, nullptr);
    parts_.push_back(DocumentPart{number, type, filename, *kind, false, std::move(data)});
    return std::nullopt;
  }

  void emit_text(int number, std::string type, std::string filename, std::string text,
                 PartKind kind, bool is_body) {
    if (forward_header_) {
      // The forwarded mail's headers go in front of its first text.
      std::string header = std::move(*forward_header_);
      forward_header_.reset();
      if (kind == PartKind::html) {
        parts_.push_back(
            DocumentPart{number, "text/plain", "", PartKind::plain_text, false, std::move(header)});
      } else {
        text = header + text;
      }
    }
    parts_.push_back(
        DocumentPart{number, std::move(type), std::move(filename), kind, is_body, std::move(text)});
  }

  std::optional<RenderFailure> fail(std::string status, std::string text) {
    failure_ = RenderFailure{std::move(status), std::move(text)};
    return failure_;
  }

  const RenderLimits& limits_;
  bool include_body_;
  int leaf_count_ = 0;
  bool body_seen_ = false;
  std::optional<std::string> forward_header_;
  std::vector<DocumentPart> parts_;
  std::optional<RenderFailure> failure_;
};

}  // namespace

std::string describe_part(int number, std::string_view content_type, std::string_view filename) {
  std::string text = "part " + std::to_string(number) + " (" + std::string(content_type);
  if (!filename.empty()) {
    constexpr std::size_t kMaxNameBytes = 80;
    std::string name;
    for (unsigned char c : filename) {
      if (name.size() >= kMaxNameBytes && (c & 0xC0) != 0x80) {  // cut at a character boundary
        name += "...";
        break;
      }
      name += (c < 0x20 || c == 0x7F || c == '"' || c == '\\') ? '_' : static_cast<char>(c);
    }
    text += ", \"" + name + "\"";
  }
  return text + ")";
}

std::variant<MailDocument, RenderFailure> parse_mail_document(std::string_view message,
                                                              const RenderLimits& limits,
                                                              bool include_body) {
  init_gmime_once();
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
  GMimeObject* root = parsed ? g_mime_message_get_mime_part(parsed.get()) : nullptr;
  MailDocument document;
  if (!root) return document;  // headers only: nothing to fax (the caller decides)
  Walker walker(limits, include_body);
  if (auto failure = walker.walk(root, 0, Mode::emit, true)) return *failure;
  document.parts = walker.take_parts();
  return document;
}

}  // namespace bh::render
