// Streaming decoder for message text arriving by DATA (dot-stuffed, ended by
// <CRLF>.<CRLF>) or BDAT (raw chunks). It never normalises line endings: a
// bare LF or bare CR is recorded so the session can refuse the message
// (SMTP smuggling, CVE-2023-51764 family). Only <CRLF>.<CRLF> ends DATA.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bh::smtp {

struct TextLimits {
  std::size_t message_size;  // bytes of content kept; more is counted, not stored
  std::size_t text_line;     // incl. CRLF
  std::size_t header_bytes;
};

class DataDecoder {
 public:
  enum class Mode { dot_stuffed, raw };

  // strip_nul: NUL bytes are dropped from the text instead of kept (and
  // the message refused by the session).
  DataDecoder(Mode mode, TextLimits limits, std::string& content, bool strip_nul = false);

  // Consumes bytes; returns how many were used (fewer than given only when
  // the end of DATA was found: the rest belongs to the next command).
  std::size_t feed(std::string_view bytes);

  // End of the last BDAT chunk: a CR still waiting for its LF is a bare CR.
  void finish_raw();

  bool done() const { return state_ == State::done; }
  bool bare_line_ending() const { return bare_lf_ || bare_cr_; }
  // A NUL byte was seen (kept unless stripping): a next hop that drops NULs
  // would read "<NUL>." as the end of data.
  bool nul_seen() const { return nul_seen_; }
  bool too_big() const { return total_ > limits_.message_size; }
  bool line_too_long() const { return longest_line_ + 2 > limits_.text_line; }
  bool header_too_big() const { return header_bytes_ > limits_.header_bytes; }
  // Where the body starts in the content (after the empty line); npos while
  // the header is still arriving.
  std::size_t body_offset() const { return body_offset_; }
  std::size_t total() const { return total_; }

 private:
  enum class State { line_start, middle, after_cr, after_dot, after_dot_cr, done };

  void emit(std::string_view bytes);
  void end_line(std::size_t terminator_bytes);

  Mode mode_;
  TextLimits limits_;
  std::string& content_;
  State state_ = State::line_start;
  std::size_t total_ = 0;
  std::size_t line_length_ = 0;
  std::size_t longest_line_ = 0;
  std::size_t header_bytes_ = 0;
  bool in_header_ = true;
  std::size_t body_offset_ = std::string::npos;
  bool crlf_before_ = true;  // DATA's own CRLF precedes the first line
  bool bare_lf_ = false;
  bool bare_cr_ = false;
  bool strip_nul_ = false;
  bool nul_seen_ = false;
};

}  // namespace bh::smtp
