#include "mail/address_lexer.hpp"

#include "mail/mailbox_list.hpp"
#include "util/printable.hpp"

namespace bh::address_syntax {

std::string at(std::size_t offset) {
  return " at offset " + std::to_string(offset);
}

bool is_wsp(unsigned char c) {
  return c == ' ' || c == '\t';
}
bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// atext (RFC 5322 3.2.3) plus UTF8-non-ascii (RFC 6532); the input was
// checked to be valid UTF-8 before tokenizing.
bool is_atext(unsigned char c) {
  if (is_alnum(c) || c >= 0x80) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// "=?charset?B|Q?encoded-text?=" (RFC 2047 2). The encoded text may hold
// '@' and '.' besides atext, never space, '?' or the other specials.
static bool is_encoded_word(std::string_view w) {
  if (w.size() < 8 || !w.starts_with("=?") || !w.ends_with("?=")) return false;
  std::size_t q1 = w.find('?', 2);
  if (q1 == std::string_view::npos || q1 == 2 || q1 + 4 > w.size()) return false;
  for (std::size_t i = 2; i < q1; ++i) {
    unsigned char c = w[i];
    if (c <= 32 || c >= 127 ||
        std::string_view("()<>@,;:\"/[]?.=\\").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  }
  char e = w[q1 + 1];
  if (e != 'B' && e != 'b' && e != 'Q' && e != 'q') return false;
  if (w[q1 + 2] != '?') return false;
  std::size_t text_begin = q1 + 3, text_end = w.size() - 2;
  if (text_end <= text_begin) return false;
  for (std::size_t i = text_begin; i < text_end; ++i) {
    unsigned char c = w[i];
    if (!is_atext(c) && c != '@' && c != '.') return false;
    if (c == '?' || c >= 0x80) return false;
  }
  return true;
}

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Fills tokens; returns the error or empty.
  std::string run(std::vector<Token>& tokens) {
    bool space = false;
    while (pos_ < text_.size()) {
      unsigned char c = text_[pos_];
      if (is_wsp(c)) {
        space = true;
        ++pos_;
        continue;
      }
      Token t;
      t.space_before = space;
      t.offset = pos_;
      space = false;
      if (c == '(') {
        if (std::string e = comment(); !e.empty()) return e;
        space = true;  // a comment separates like white space
        continue;
      }
      if (c == ')') return "unbalanced ')'" + at(pos_);
      if (c == '\\') return "backslash outside a quoted string or comment" + at(pos_);
      if (c == ']') return "unbalanced ']'" + at(pos_);
      if (c == '"') {
        t.kind = Kind::quoted;
        if (std::string e = quoted(t.text); !e.empty()) return e;
      } else if (c == '[') {
        t.kind = Kind::literal;
        if (std::string e = literal(t.text); !e.empty()) return e;
      } else if (std::string_view("<>:;@,.").find(static_cast<char>(c)) != std::string_view::npos) {
        t.kind = Kind::special;
        t.special = static_cast<char>(c);
        ++pos_;
      } else if (is_atext(c)) {
        t.kind = Kind::atom;
        t.text = atom();
        t.encoded_word = is_encoded_word(t.text);
      } else {
        return "character not allowed here" + at(pos_);  // not reached: all printable covered
      }
      tokens.push_back(std::move(t));
    }
    return {};
  }

 private:
  // An atom; or an encoded word, which may also hold '@' and '.', when one
  // starts here and ends before a delimiter.
  std::string atom() {
    std::size_t begin = pos_;
    if (text_.substr(pos_).starts_with("=?")) {
      std::size_t end = encoded_word_end(pos_);
      if (end != 0) {
        pos_ = end;
        return std::string(text_.substr(begin, end - begin));
      }
    }
    while (pos_ < text_.size() && is_atext(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  std::size_t encoded_word_end(std::size_t begin) const {
    // An encoded word is at most 75 characters (RFC 2047 2): the search for
    // its end stays in that window, so the lexer stays linear.
    std::string_view window = text_.substr(begin, kMaxEncodedWord);
    std::size_t q = 2;
    for (int marks = 0; marks < 2; ++marks) {  // after charset, after encoding
      q = window.find('?', q);
      if (q == std::string_view::npos) return 0;
      ++q;
    }
    std::size_t close = window.find("?=", q);
    if (close == std::string_view::npos) return 0;
    std::size_t end = begin + close + 2;
    if (!is_encoded_word(text_.substr(begin, end - begin))) return 0;
    if (end < text_.size()) {
      char next = text_[end];
      if (std::string_view(" \t(<\",;:").find(next) == std::string_view::npos) return 0;
    }
    return end;
  }

  // quoted-pair (RFC 5322 3.2.1): '\' and a VCHAR or WSP (or UTF-8).
  std::string quoted_pair(std::string& out, std::string_view where) {
    std::size_t begin = pos_;
    if (pos_ + 1 >= text_.size())
      return "backslash at the end of " + std::string(where) + at(begin);
    unsigned char c = text_[pos_ + 1];
    if (c < 0x20 || c == 0x7F) return "invalid quoted-pair" + at(begin);
    std::size_t n = c >= 0x80 ? utf8_sequence(text_, pos_ + 1) : 1;
    out.append(text_.substr(pos_ + 1, n));
    pos_ += 1 + n;
    return {};
  }

  std::string comment() {
    std::size_t begin = pos_;
    std::size_t depth = 0;
    std::string ignored;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '(') {
        if (++depth > bh::kMaxCommentDepth) return "comments nested too deeply" + at(pos_);
        ++pos_;
      } else if (c == ')') {
        ++pos_;
        if (--depth == 0) return {};
      } else if (c == '\\') {
        if (std::string e = quoted_pair(ignored, "a comment"); !e.empty()) return e;
      } else {
        ++pos_;  // ctext, WSP or UTF-8 (validated before)
      }
    }
    return "unbalanced '(': comment not closed" + at(begin);
  }

  std::string quoted(std::string& out) {
    std::size_t begin = pos_++;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return {};
      }
      if (c == '\\') {
        if (std::string e = quoted_pair(out, "a quoted string"); !e.empty()) return e;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    return "unbalanced '\"': quoted string not closed" + at(begin);
  }

  std::string literal(std::string& out) {
    std::size_t begin = pos_++;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ']') {
        ++pos_;
        if (out.empty()) return "empty domain literal" + at(begin);
        return {};
      }
      if (c == '[') return "'[' inside a domain literal" + at(pos_);
      if (c == '\\') return "quoted-pair in a domain literal" + at(pos_);
      if (!is_wsp(static_cast<unsigned char>(c))) out.push_back(c);  // FWS is not part of it
      ++pos_;
    }
    return "unbalanced '[': domain literal not closed" + at(begin);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string tokenize(std::string_view text, std::vector<Token>& tokens) {
  return Lexer(text).run(tokens);
}

}  // namespace bh::address_syntax
