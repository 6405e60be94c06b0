#include "smtp/proto/data_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace bh::smtp {

namespace {

// The first CR, LF or NUL at or after from, or bytes.size().
std::size_t find_special(std::string_view bytes, std::size_t from) {
  const char* begin = bytes.data() + from;
  std::size_t length = bytes.size() - from;
  const void* cr = std::memchr(begin, '\r', length);
  std::size_t end = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - begin) : length;
  if (const void* lf = std::memchr(begin, '\n', end))
    end = static_cast<std::size_t>(static_cast<const char*>(lf) - begin);
  if (const void* nul = std::memchr(begin, '\0', end))
    end = static_cast<std::size_t>(static_cast<const char*>(nul) - begin);
  return from + end;
}

}  // namespace

DataDecoder::DataDecoder(Mode mode, TextLimits limits, std::string& content, bool strip_nul)
    : mode_(mode), limits_(limits), content_(content), strip_nul_(strip_nul) {}

void DataDecoder::emit(std::string_view bytes) {
  std::size_t before = total_;
  total_ += bytes.size();
  // A header over its limit is refused at the end: nothing more of it is kept,
  // also while its last line has not ended (header_bytes_ counts whole lines).
  if (in_header_ && header_bytes_ + line_length_ + bytes.size() > limits_.header_bytes) return;
  if (before < limits_.message_size) {
    std::size_t room = limits_.message_size - before;
    content_.append(bytes.substr(0, std::min(room, bytes.size())));
  }
}

void DataDecoder::end_line(std::size_t terminator_bytes) {
  if (in_header_) {
    header_bytes_ += line_length_ + terminator_bytes;
    if (line_length_ == 0) {  // the empty line ends the header
      in_header_ = false;
      body_offset_ = content_.size();
    }
  }
  longest_line_ = std::max(longest_line_, line_length_);
  line_length_ = 0;
}

void DataDecoder::finish_raw() {
  if (state_ == State::after_cr) {
    bare_cr_ = true;
    emit("\r");
    state_ = State::middle;
  }
}

std::size_t DataDecoder::feed(std::string_view bytes) {
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  while (i < n) {
    switch (state_) {
      case State::line_start:
        if (mode_ == Mode::dot_stuffed && bytes[i] == '.') {
          ++i;  // the stuffed dot is removed (RFC 5321 4.5.2)
          state_ = State::after_dot;
        } else {
          state_ = State::middle;
        }
        break;
      case State::middle: {
        // Fast path: copy up to the next CR, LF or NUL in one go (memchr is
        // vectorised; LF and NUL are only looked for before the CR).
        std::size_t j = find_special(bytes, i);
        emit(bytes.substr(i, j - i));
        line_length_ += j - i;
        i = j;
        if (i == n) break;
        if (bytes[i] == '\0') {
          nul_seen_ = true;
          if (!strip_nul_) {
            emit(bytes.substr(i, 1));
            ++line_length_;
          }
          ++i;
          break;
        }
        if (bytes[i] == '\r') {
          state_ = State::after_cr;
        } else {
          bare_lf_ = true;
          emit("\n");
          end_line(1);
          crlf_before_ = false;
          state_ = State::line_start;
        }
        ++i;
        break;
      }
      case State::after_cr:
        if (bytes[i] == '\n') {
          ++i;
          emit("\r\n");
          end_line(2);
          crlf_before_ = true;
          state_ = State::line_start;
        } else {
          bare_cr_ = true;  // keep the CR as text; the next byte is read as usual
          emit("\r");
          ++line_length_;
          state_ = State::middle;
        }
        break;
      case State::after_dot:
        if (bytes[i] == '\r') {
          ++i;
          state_ = State::after_dot_cr;
        } else {
          state_ = State::middle;
        }
        break;
      case State::after_dot_cr:
        if (bytes[i] == '\n' && crlf_before_) {
          state_ = State::done;
          return i + 1;
        }
        if (bytes[i] == '\n') {  // "<LF>.<CRLF>" is text, never the end
          ++i;
          emit("\r\n");
          end_line(2);
          crlf_before_ = true;
          state_ = State::line_start;
          break;
        }
        bare_cr_ = true;
        emit("\r");
        ++line_length_;
        state_ = State::middle;
        break;
      case State::done:
        return i;
    }
  }
  return i;
}

}  // namespace bh::smtp
