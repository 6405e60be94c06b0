// parse_json (json.hpp): a recursive descent over bytes that come from a
// network peer, bounded in size and depth.
#include <fmt/format.h>

#include "connectors/webhook/json.hpp"
#include "util/printable.hpp"
#include "util/utf8.hpp"

namespace bh::connectors::webhook {
namespace {

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<JsonValue> document() {
    JsonValue value;
    if (!parse_value(value, 0)) return Error{error_};
    skip_space();
    if (pos_ != text_.size()) return fail("text after the value"), Error{error_};
    return value;
  }

 private:
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = fmt::format("at byte {}: {}", pos_, what);
    return false;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("unexpected character");
    pos_ += word.size();
    return true;
  }

  bool parse_value(JsonValue& out, std::size_t depth) {
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    if (c == '{' || c == '[') {
      if (depth >= limits_.max_depth) return fail("nested too deeply");
      return c == '{' ? parse_object(out, depth + 1) : parse_array(out, depth + 1);
    }
    if (c == '"') {
      std::string s;
      if (!parse_string(s)) return false;
      out.value = std::move(s);
      return true;
    }
    if (c == 't') return literal("true") && (out.value = true, true);
    if (c == 'f') return literal("false") && (out.value = false, true);
    if (c == 'n') return literal("null") && (out.value = nullptr, true);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    return fail("unexpected character");
  }

  bool parse_object(JsonValue& out, std::size_t depth) {
    ++pos_;  // '{'
    JsonObject object;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out.value = std::move(object);
      return true;
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a key");
      if (object.size() >= limits_.max_members) return fail("too many members");
      std::string key;
      if (!parse_string(key)) return false;
      for (const auto& [earlier, ignored] : object)
        if (earlier == key) return fail("key \"" + printable(key) + "\" appears twice");
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      JsonValue value;
      if (!parse_value(value, depth)) return false;
      object.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        out.value = std::move(object);
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool parse_array(JsonValue& out, std::size_t depth) {
    ++pos_;  // '['
    JsonArray array;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      out.value = std::move(array);
      return true;
    }
    while (true) {
      JsonValue value;
      if (!parse_value(value, depth)) return false;
      array.push_back(std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        out.value = std::move(array);
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool digits() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start || fail("expected a digit");
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool parse_number(JsonValue& out) {
    std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return false;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
    }
    out.value = JsonValue::Number{std::string(text_.substr(start, pos_ - start))};
    return true;
  }

  bool hex4(unsigned& value) {
    if (text_.size() - pos_ < 4) return fail("short \\u escape");
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        value |= static_cast<unsigned>(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return true;
  }

  bool escape(std::string& out) {
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out.push_back(c);
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        --pos_;
        return fail("bad escape");
    }
    unsigned high = 0;
    if (!hex4(high)) return false;
    if (high >= 0xDC00 && high <= 0xDFFF) return fail("lone low surrogate");
    if (high < 0xD800 || high > 0xDBFF) return append_utf8(out, high), true;
    unsigned low = 0;
    if (text_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
    pos_ += 2;
    if (!hex4(low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return fail("lone high surrogate");
    append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (pos_ >= text_.size()) return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        if (!escape(out)) return false;
        continue;
      }
      if (c < 0x20) return fail("control character in a string");
      std::size_t length = utf8_sequence(text_, pos_);
      if (length == 0) return fail("invalid UTF-8");
      out.append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  std::string_view text_;
  const JsonLimits& limits_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return Error{fmt::format("{} bytes; at most {}", text.size(), limits.max_bytes)};
  return Parser(text, limits).document();
}

}  // namespace bh::connectors::webhook
