#include "connectors/webhook/mime_walk.hpp"

#include "connectors/webhook/mime_decode.hpp"
#include "mail/address.hpp"  // to_lower_ascii
#include "mail/header_block.hpp"

namespace bh::connectors::webhook {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

struct Entity {
  std::string_view header;  // fields, each with its CRLF
  std::string_view body;
};

Entity split_entity(std::string_view text) {
  if (text.starts_with("\r\n")) return {{}, text.substr(2)};
  std::size_t blank = text.find("\r\n\r\n");
  if (blank == std::string_view::npos) return {text, {}};
  return {text.substr(0, blank + 2), text.substr(blank + 4)};
}

std::string field(const HeaderBlock& block, std::string_view name) {
  auto found = block.all(name);
  return found.empty() ? std::string() : HeaderBlock::unfolded(found.front()->value);
}

// The parts of a multipart body between "--boundary" lines (RFC 2046 5.1.1:
// the CRLF before a delimiter belongs to it; the preamble and the epilogue
// are dropped).
std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary,
                                              std::size_t max_parts) {
  std::vector<std::string_view> parts;
  std::string delimiter = "--" + std::string(boundary);
  // Where a delimiter line starts: at the body's start or after a CRLF.
  auto find_delimiter = [&](std::size_t from) -> std::size_t {
    for (std::size_t pos = from; pos < body.size();) {
      std::size_t hit = body.find(delimiter, pos);
      if (hit == std::string_view::npos) return hit;
      if (hit == 0 || (hit >= 2 && body.substr(hit - 2, 2) == "\r\n")) return hit;
      pos = hit + 1;
    }
    return std::string_view::npos;
  };
  std::size_t at = find_delimiter(0);
  while (at != std::string_view::npos && parts.size() < max_parts) {
    std::size_t after = at + delimiter.size();
    if (body.substr(after, 2) == "--") break;  // close delimiter
    std::size_t line_end = body.find("\r\n", after);
    if (line_end == std::string_view::npos) break;
    std::size_t start = line_end + 2;
    std::size_t next = find_delimiter(start);
    std::size_t end = next == std::string_view::npos ? body.size() : next;
    // The CRLF before the next delimiter is the delimiter's.
    if (next != std::string_view::npos && end >= start + 2) end -= 2;
    parts.push_back(body.substr(start, end - start));
    at = next;
  }
  return parts;
}

class Walker {
 public:
  Walker(bool with_attachments, const MimeLimits& limits)
      : with_attachments_(with_attachments), limits_(limits) {}

  void entity(std::string_view text, std::size_t depth, bool in_alternative) {
    if (++parts_ > limits_.max_parts) return;
    Entity e = split_entity(text);
    HeaderBlock block(e.header.empty() ? std::string_view("\r\n") : text);
    HeaderParameters type = parse_parameters(field(block, "Content-Type"));
    if (type.token.empty() || type.token.find('/') == std::string::npos) type.token = "text/plain";
    HeaderParameters disposition = parse_parameters(field(block, "Content-Disposition"));
    std::string encoding = std::string(trim(field(block, "Content-Transfer-Encoding")));
    std::string boundary = type.get("boundary");
    if (type.token.starts_with("multipart/") && !boundary.empty()) {
      if (depth >= limits_.max_depth) return;
      bool alternative = type.token == "multipart/alternative";
      for (std::string_view part : split_multipart(e.body, boundary, limits_.max_parts))
        entity(part, depth + 1, alternative);
      return;
    }
    std::string filename = disposition.get("filename");
    if (filename.empty()) filename = type.get("name");
    filename = decode_encoded_words(filename);  // what some mailers write instead of RFC 2231
    bool attached = disposition.token == "attachment" || !filename.empty();
    // A message that is not multipart gives its body as the text when it is text at all.
    bool is_text = type.token == "text/plain" || (depth == 0 && type.token.starts_with("text/"));
    if (!text_found_ && is_text && !attached) {
      text_found_ = true;
      result_.text = to_utf8(decode_transfer(e.body, encoding), type.get("charset"));
      return;
    }
    // The other forms of the text (HTML, rich text) are not attachments.
    if (in_alternative && !attached) return;
    if (!with_attachments_) return;
    result_.attachments.push_back(
        {std::move(filename), type.token, decode_transfer(e.body, encoding)});
  }

  MailText take() { return std::move(result_); }

 private:
  bool with_attachments_;
  const MimeLimits& limits_;
  std::size_t parts_ = 0;
  bool text_found_ = false;
  MailText result_;
};

}  // namespace

std::string HeaderParameters::get(std::string_view name) const {
  for (const auto& [key, value] : parameters)
    if (key == name) return value;
  return {};
}

HeaderParameters parse_parameters(std::string_view value) {
  HeaderParameters out;
  std::size_t semicolon = value.find(';');
  out.token = to_lower_ascii(trim(value.substr(0, semicolon)));
  std::size_t pos = semicolon;
  while (pos != std::string_view::npos && pos < value.size() && out.parameters.size() < 32) {
    ++pos;  // ';'
    std::size_t equals = value.find('=', pos);
    if (equals == std::string_view::npos) break;
    std::string name = to_lower_ascii(trim(value.substr(pos, equals - pos)));
    pos = equals + 1;
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
    std::string text;
    if (pos < value.size() && value[pos] == '"') {
      for (++pos; pos < value.size() && value[pos] != '"'; ++pos) {
        if (value[pos] == '\\' && pos + 1 < value.size()) ++pos;
        text.push_back(value[pos]);
      }
      pos = value.find(';', pos);
    } else {
      std::size_t end = value.find(';', pos);
      text = std::string(trim(value.substr(pos, end == std::string_view::npos ? end : end - pos)));
      pos = end;
    }
    if (name.ends_with('*')) {  // RFC 2231 extended value (continuations are not joined)
      name.pop_back();
      text = decode_rfc2231(text);
    }
    out.parameters.emplace_back(std::move(name), std::move(text));
  }
  return out;
}

MailText walk_mime(std::string_view content, bool with_attachments, const MimeLimits& limits) {
  Walker walker(with_attachments, limits);
  walker.entity(content, 0, false);
  return walker.take();
}

}  // namespace bh::connectors::webhook
