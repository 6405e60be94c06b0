// Replies as a client reads them (RFC 5321 4.2): "250-..." continuation
// lines up to "250 ...". Pure and bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh::smtp {

struct ServerReply {
  int code = 0;
  std::string enhanced;            // "2.1.5" when the server sent one
  std::vector<std::string> lines;  // text after "CODE-" / "CODE ", enhanced code removed

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  std::string text() const;     // lines joined with "; ", for logs and DSNs
  std::string summary() const;  // "550 5.1.1 text"
};

class ReplyParser {
 public:
  enum class Status { incomplete, complete, malformed };

  // Feeds one line (without CRLF). A reply longer than max_lines is malformed.
  Status add_line(std::string_view line);
  ServerReply take();

  static constexpr std::size_t kMaxLines = 100;
  static constexpr std::size_t kMaxLineLength = 4096;

 private:
  ServerReply reply_;
};

// "2.1.5 text" -> "2.1.5" when the text starts with a valid enhanced code.
std::optional<std::string> leading_enhanced_code(std::string_view text);

}  // namespace bh::smtp
