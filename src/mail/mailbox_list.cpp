#include "mail/mailbox_list.hpp"

#include "mail/address_lexer.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

using namespace address_syntax;

bool is_dot_atom(std::string_view text) {
  if (text.empty()) return false;
  bool previous_dot = true;
  for (unsigned char c : text) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
    } else if (is_atext(c)) {
      previous_dot = false;
    } else {
      return false;
    }
  }
  return !previous_dot;
}

bool is_special(const Token& t, char c) {
  return t.kind == Kind::special && t.special == c;
}
bool is_word(const Token& t) {
  return t.kind == Kind::atom || t.kind == Kind::quoted;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {
    end_.offset = tokens_.empty() ? 0 : tokens_.back().offset + 1;
  }

  std::string run(AddressList& out) {
    if (tokens_.empty()) return "empty value";
    while (true) {
      if (std::string e = address(out, false); !e.empty()) return e;
      const Token& t = peek();
      if (t.kind == Kind::end) return {};
      if (!is_special(t, ',')) return after_mailbox(t, false);
      ++pos_;
      if (peek().kind == Kind::end) return "',' at the end of the list" + at(t.offset);
    }
  }

 private:
  const Token& peek() const { return pos_ < tokens_.size() ? tokens_[pos_] : end_; }

  // What may not follow a mailbox (or group).
  static std::string after_mailbox(const Token& t, bool in_group) {
    if (is_special(t, '<'))
      return "two addresses in one mailbox (an unquoted '@' in a display name?)" + at(t.offset);
    if (is_special(t, '@')) return "more than one '@' in an address" + at(t.offset);
    if (is_special(t, '>')) return "unbalanced '>'" + at(t.offset);
    if (is_special(t, ';'))
      return (in_group ? "unexpected ';'" : "';' outside a group") + at(t.offset);
    if (is_special(t, ':')) return "unexpected ':'" + at(t.offset);
    if (is_special(t, '.')) return "unexpected '.' after the address" + at(t.offset);
    return "text after the address" + at(t.offset);
  }

  // [display-name] and the words of an addr-spec look alike: collect words
  // and dots, and decide by what follows.
  std::vector<const Token*> words() {
    std::vector<const Token*> run;
    while (is_word(peek()) || is_special(peek(), '.')) run.push_back(&tokens_[pos_++]);
    return run;
  }

  static std::string phrase(const std::vector<const Token*>& run, std::string& out) {
    if (run.empty()) return {};
    if (!is_word(*run.front())) return "display name starts with '.'" + at(run.front()->offset);
    for (std::size_t i = 0; i < run.size(); ++i) {
      if (i > 0 && run[i]->space_before) out.push_back(' ');
      out += is_special(*run[i], '.') ? std::string(".") : run[i]->text;
    }
    return {};
  }

  static std::string local_part(const std::vector<const Token*>& run, std::string& out) {
    if (run.empty()) return "no local part before '@'";
    std::string joined;
    bool want_word = true;
    for (const Token* t : run) {
      if (is_word(*t)) {
        if (!want_word)
          return "space between words of the local part (a display name without '<...>'?)" +
                 at(t->offset);
        if (t->encoded_word) return "encoded word in an address" + at(t->offset);
        joined += t->text;
      } else if (want_word) {
        return std::string(joined.empty() ? "local part starts with '.'" : "'..' in local part") +
               at(t->offset);
      } else {
        joined.push_back('.');
      }
      want_word = !is_word(*t);
    }
    if (want_word) return "local part ends with '.'" + at(run.back()->offset);
    if (joined.empty()) return "empty local part" + at(run.front()->offset);
    if (is_dot_atom(joined)) {
      out = joined;
    } else {
      out = "\"";
      for (char c : joined) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    }
    if (out.size() > kMaxLocal) return "local part longer than 64 octets" + at(run.front()->offset);
    return {};
  }

  std::string domain(std::string& out) {
    const Token& first = peek();
    if (first.kind == Kind::literal) {
      ++pos_;
      out = "[" + first.text + "]";
      return {};
    }
    if (first.kind == Kind::quoted) return "quoted string in a domain" + at(first.offset);
    if (first.kind != Kind::atom) return "no domain after '@'" + at(first.offset);
    while (true) {
      const Token& label = peek();
      if (label.kind != Kind::atom) return "empty label in the domain" + at(label.offset);
      if (label.encoded_word) return "encoded word in an address" + at(label.offset);
      for (unsigned char c : label.text)
        if (!is_alnum(c) && c != '-' && c != '_' && c < 0x80)
          return "domain has a character that is not allowed in a host name" + at(label.offset);
      if (label.text.size() > kMaxLabel)
        return "domain label longer than 63 octets" + at(label.offset);
      out += label.text;
      ++pos_;
      if (!is_special(peek(), '.')) break;
      ++pos_;
      out.push_back('.');
    }
    if (out.size() > kMaxDomain) return "domain longer than 255 octets" + at(first.offset);
    return {};
  }

  std::string addr_spec(const std::vector<const Token*>& run, Mailbox& m) {
    if (std::string e = local_part(run, m.local); !e.empty()) return e;
    ++pos_;  // '@'
    return domain(m.domain);
  }

  // obs-route: "@a,@b:" before the addr-spec; read and dropped.
  std::string route() {
    while (true) {
      while (is_special(peek(), ',')) ++pos_;
      if (!is_special(peek(), '@')) return "malformed route in '<...>'" + at(peek().offset);
      ++pos_;
      std::string ignored;
      if (std::string e = domain(ignored); !e.empty()) return e;
      if (is_special(peek(), ':')) {
        ++pos_;
        return {};
      }
      if (!is_special(peek(), ',')) return "route not ended by ':'" + at(peek().offset);
    }
  }

  std::string angle_addr(Mailbox& m) {
    const Token& open = peek();
    ++pos_;  // '<'
    if (is_special(peek(), '>')) return "empty address '<>'" + at(open.offset);
    if (is_special(peek(), '@') || is_special(peek(), ','))
      if (std::string e = route(); !e.empty()) return e;
    auto run = words();
    const Token& t = peek();
    if (!is_special(t, '@')) {
      if (t.kind == Kind::end) return "unbalanced '<': no '>'" + at(open.offset);
      if (is_special(t, '>')) return "address without '@'" + at(t.offset);
      if (is_special(t, '<')) return "'<' inside '<...>'" + at(t.offset);
      return "unexpected text inside '<...>'" + at(t.offset);
    }
    if (std::string e = addr_spec(run, m); !e.empty()) return e;
    const Token& close = peek();
    if (is_special(close, '>')) {
      ++pos_;
      return {};
    }
    if (close.kind == Kind::end) return "unbalanced '<': no '>'" + at(open.offset);
    if (is_special(close, '@')) return "more than one '@' in an address" + at(close.offset);
    if (is_special(close, '<')) return "'<' inside '<...>'" + at(close.offset);
    return "text after the address inside '<...>'" + at(close.offset);
  }

  // One mailbox, or (outside a group) one group.
  std::string address(AddressList& out, bool in_group, const std::string& group = {}) {
    std::size_t start = peek().offset;
    auto run = words();
    const Token& t = peek();
    Mailbox m;
    m.group = group;
    if (is_special(t, '<')) {
      if (std::string e = phrase(run, m.display_name); !e.empty()) return e;
      if (std::string e = angle_addr(m); !e.empty()) return e;
    } else if (is_special(t, '@')) {
      if (std::string e = addr_spec(run, m); !e.empty()) return e;
    } else if (is_special(t, ':')) {
      if (in_group) return "group inside a group" + at(t.offset);
      if (run.empty()) return "group without a name" + at(t.offset);
      std::string name;
      if (std::string e = phrase(run, name); !e.empty()) return e;
      ++pos_;
      return group_list(out, name, t.offset);
    } else if (t.kind == Kind::literal) {
      return "domain literal without an address" + at(t.offset);
    } else if (is_special(t, '>')) {
      return "unbalanced '>'" + at(t.offset);
    } else if (run.empty()) {
      return "empty mailbox" + at(t.offset);
    } else {
      return "display name or word without an address" + at(start);
    }
    out.mailboxes.push_back(std::move(m));
    return {};
  }

  std::string group_list(AddressList& out, const std::string& name, std::size_t begin) {
    ++out.groups;
    if (is_special(peek(), ';')) {
      ++pos_;
      return {};
    }
    if (peek().kind == Kind::end) return "group not ended by ';'" + at(begin);
    while (true) {
      if (std::string e = address(out, true, name); !e.empty()) return e;
      const Token& t = peek();
      if (is_special(t, ';')) {
        ++pos_;
        return {};
      }
      if (t.kind == Kind::end) return "group not ended by ';'" + at(begin);
      if (!is_special(t, ',')) return after_mailbox(t, true);
      ++pos_;
    }
  }

  std::vector<Token> tokens_;
  Token end_;
  std::size_t pos_ = 0;
};

// Unfolds (CRLF followed by WSP) and checks the bytes: no NUL, no other
// control characters, no bare CR or LF, valid UTF-8.
std::string unfold(std::string_view value, std::string& out) {
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    unsigned char c = value[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 2 < value.size() && value[i + 1] == '\n' &&
          is_wsp(static_cast<unsigned char>(value[i + 2]))) {
        ++i;  // drop CRLF, keep the WSP that follows
        continue;
      }
      return "CR or LF that is not folding" + at(out.size());
    }
    if (c == 0) return "NUL byte" + at(out.size());
    if ((c < 0x20 && c != '\t') || c == 0x7F) return "control character" + at(out.size());
    if (c >= 0x80) {
      std::size_t n = utf8_sequence(value, i);
      if (n == 0) return "invalid UTF-8" + at(out.size());
      out.append(value.substr(i, n));
      i += n - 1;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  return {};
}

}  // namespace

AddressList parse_address_list(std::string_view value) {
  AddressList out;
  if (value.size() > kMaxAddressListInput) {
    out.error = "header value too long";
    return out;
  }
  std::string text;
  std::vector<Token> tokens;
  std::string error = unfold(value, text);
  if (error.empty()) error = tokenize(text, tokens);
  if (error.empty()) error = Parser(std::move(tokens)).run(out);
  if (!error.empty()) {
    out.mailboxes.clear();
    out.groups = 0;
    out.error = std::move(error);
  }
  return out;
}

}  // namespace bh
