// The webhook's own small JSON: a writer that escapes at the point of
// writing (every control character, the code points printable.hpp calls
// unsafe, and invalid UTF-8), and a bounded parser for the callbacks and
// the 202 answers. Pure, no I/O.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace bh::connectors::webhook {

// `text` as a JSON string literal, quotes included: '"', '\\' and the
// controls as \" \\ \n \r \t or \uXXXX, the other unsafe code points (DEL,
// C1, U+2028/2029, bidi controls) as \uXXXX, each byte that is not valid
// UTF-8 as U+FFFD (the replacement character, written as \uFFFD). The
// result is ASCII-safe to embed anywhere and decodes to the original text
// whenever the text was valid UTF-8.
void append_json_string(std::string& out, std::string_view text);

// Writes one JSON value: commas and nesting are tracked, so callers only say
// what comes next. Misuse (a value where a key is due) is a programming error.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& number(long long value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // An already-encoded value (e.g. a long base64 text written in pieces).
  std::string& raw_value();

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }
  void reserve(std::size_t n) { out_.reserve(n); }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

struct JsonValue;
using JsonObject = std::vector<std::pair<std::string, JsonValue>>;
using JsonArray = std::vector<JsonValue>;

// A parsed value. Numbers keep their text (nothing here needs arithmetic).
struct JsonValue {
  struct Number {
    std::string text;
  };
  std::variant<std::nullptr_t, bool, Number, std::string, JsonArray, JsonObject> value;

  const std::string* as_string() const { return std::get_if<std::string>(&value); }
  const JsonObject* as_object() const { return std::get_if<JsonObject>(&value); }
  // A member of an object (null when this is not an object or has no such key).
  const JsonValue* member(std::string_view name) const;
};

struct JsonLimits {
  std::size_t max_bytes = 64 * 1024;
  std::size_t max_depth = 16;
  // Members of one object (duplicate keys are looked for by comparing each
  // with the ones before it).
  std::size_t max_members = 256;
};

// RFC 8259, strictly: one value with optional surrounding white space;
// strings must be valid UTF-8 without raw controls, \u escapes must not
// leave lone surrogates, an object may not name a key twice (two readers
// could disagree on which one counts). Errors say where ("at byte 17: ...").
Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace bh::connectors::webhook
