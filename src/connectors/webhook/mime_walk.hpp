// A small MIME walker, enough for the webhook's JSON: the first text/plain
// part (decoded, as UTF-8 where the charset is known) and the attachments.
// Not a full MIME parser (GMime is for conversion); bounded in depth and
// part count, never reads past the message. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bh::connectors::webhook {

struct Attachment {
  std::string filename;      // "" when the part names none
  std::string content_type;  // lower-case "type/subtype"
  std::string data;          // decoded bytes
};

struct MailText {
  std::string text;  // the text/plain body, decoded
  std::vector<Attachment> attachments;
};

struct MimeLimits {
  std::size_t max_depth = 10;
  std::size_t max_parts = 200;
};

// content: the whole message, CRLF line ends (as the queue holds it).
// with_attachments false: attachments are not decoded (left empty).
MailText walk_mime(std::string_view content, bool with_attachments, const MimeLimits& limits = {});

// A header's value split as Content-Type and Content-Disposition are:
// the lower-cased first token, and the parameters (names lower-cased,
// quoted strings unquoted, RFC 2231 "name*" values decoded).
struct HeaderParameters {
  std::string token;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string get(std::string_view name) const;
};
HeaderParameters parse_parameters(std::string_view value);

}  // namespace bh::connectors::webhook
