// The header section of a message (RFC 5322 2.2), parsed without copying:
// each field's name and its full raw text including folded lines. Bounded
// by the header size limit the session already enforced. Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

struct HeaderField {
  std::string_view name;   // as written
  std::string_view value;  // unfolded-free raw value (after the colon), without the final CRLF
  std::size_t begin = 0;   // byte range of the whole field in the content, incl. CRLF
  std::size_t end = 0;
};

class HeaderBlock {
 public:
  // content: the message (header, empty line, body).
  explicit HeaderBlock(std::string_view content);

  const std::vector<HeaderField>& fields() const { return fields_; }
  std::vector<const HeaderField*> all(std::string_view name) const;  // case-insensitive
  // The value with folding removed and surrounding space trimmed.
  static std::string unfolded(std::string_view value);
  // The first field of that name, unfolded and cut to max_bytes; "" when none.
  std::string first_unfolded(std::string_view name,
                             std::size_t max_bytes = std::string::npos) const;

 private:
  std::vector<HeaderField> fields_;
};

// Bytes of content that are the header section, the empty line that ends
// it included (the whole content when it has none): what the session and
// the spool call header_size.
inline std::size_t header_size_of(std::string_view content) {
  std::size_t end = content.find("\r\n\r\n");
  return end == std::string_view::npos ? content.size() : end + 4;
}

bool iequals_ascii(std::string_view a, std::string_view b);
bool istarts_with_ascii(std::string_view text, std::string_view prefix);

// Removes every header field for which remove(name) is true; returns the
// names removed (for the trace).
std::vector<std::string> remove_header_fields(std::string& content,
                                              const std::function<bool(std::string_view)>& remove);

// The address in a From: value: "Name <a@b>" or "a@b". Empty when none,
// or when the value lists several mailboxes.
std::string address_in_header(std::string_view value);

}  // namespace bh
