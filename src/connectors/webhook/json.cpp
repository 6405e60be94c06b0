#include "connectors/webhook/json.hpp"

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh::connectors::webhook {
namespace {

void append_u_escape(std::string& out, unsigned value) {
  out += fmt::format("\\u{:04X}", value);
}

void append_escaped_code_point(std::string& out, char32_t c) {
  if (c < 0x10000) return append_u_escape(out, static_cast<unsigned>(c));
  char32_t v = c - 0x10000;  // outside the BMP: a surrogate pair
  append_u_escape(out, 0xD800 + static_cast<unsigned>(v >> 10));
  append_u_escape(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0) {  // not UTF-8: JSON cannot carry the byte
      out += "\\uFFFD";
      ++pos;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (is_unsafe_code_point(c))
          append_escaped_code_point(out, c);
        else
          out.append(text.substr(pos, length));
    }
    pos += length;
  }
  out.push_back('"');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  before_value();
  append_json_string(out_, name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  before_value();
  append_json_string(out_, value);
  return *this;
}

JsonWriter& JsonWriter::number(long long value) {
  before_value();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

std::string& JsonWriter::raw_value() {
  before_value();
  return out_;
}

const JsonValue* JsonValue::member(std::string_view name) const {
  const JsonObject* object = as_object();
  if (!object) return nullptr;
  for (const auto& [key, value] : *object)
    if (key == name) return &value;
  return nullptr;
}

}  // namespace bh::connectors::webhook
