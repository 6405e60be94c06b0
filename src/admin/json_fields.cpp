#include "admin/json_fields.hpp"

// Boost.JSON header-only: its implementation is compiled here, and only
// here, for the whole program.
#include <boost/json/src.hpp>

#include <fmt/format.h>

namespace bh::admin {
namespace json = boost::json;

namespace {

std::string_view type_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace

Result<json::value> parse_json(std::string_view text) {
  json::parse_options options;
  options.max_depth = 32;
  json::parser parser(json::storage_ptr(), options);
  boost::system::error_code ec;
  std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) return parser.release();
  // Line and column (in bytes, from 1) of the first character not parsed.
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < used && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return Error{fmt::format("line {}, column {}: {}", line, column, ec.message())};
}

std::string field_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string field_path(std::string_view parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

FieldReader::FieldReader(const json::value& value, std::string path,
                         std::vector<FieldProblem>& problems)
    : object_(value.if_object()), path_(std::move(path)), problems_(problems) {
  if (!object_)
    problem(path_.empty() ? "(body)" : path_,
            fmt::format("must be an object, not {}", type_name(value)));
}

void FieldReader::problem(std::string field, std::string message) {
  problems_.push_back({std::move(field), std::move(message)});
}

const json::value* FieldReader::find(std::string_view key, bool required) {
  if (!object_) return nullptr;
  seen_.emplace(key);
  const json::value* value = object_->if_contains(key);
  if (!value && required) problem(field_path(path_, key), "is required");
  return value;
}

void FieldReader::text(std::string_view key, std::string& out, bool required) {
  const json::value* value = find(key, required);
  if (!value) return;
  if (const json::string* s = value->if_string())
    out.assign(s->data(), s->size());
  else
    problem(field_path(path_, key), fmt::format("must be a string, not {}", type_name(*value)));
}

void FieldReader::strings(std::string_view key, std::vector<std::string>& out, bool required) {
  const json::value* value = find(key, required);
  if (!value) return;
  const json::array* array = value->if_array();
  if (!array) {
    problem(field_path(path_, key),
            fmt::format("must be an array of strings, not {}", type_name(*value)));
    return;
  }
  std::string list = field_path(path_, key);
  for (std::size_t i = 0; i < array->size(); ++i) {
    if (const json::string* s = (*array)[i].if_string())
      out.emplace_back(s->data(), s->size());
    else
      problem(field_path(list, i), fmt::format("must be a string, not {}", type_name((*array)[i])));
  }
}

void FieldReader::object(std::string_view key, const std::function<void(FieldReader&)>& read,
                         bool required) {
  const json::value* value = find(key, required);
  if (!value) return;
  FieldReader nested(*value, field_path(path_, key), problems_);
  if (nested.is_object()) read(nested);
}

void FieldReader::objects(std::string_view key, const std::function<void(FieldReader&)>& read,
                          bool required) {
  const json::value* value = find(key, required);
  if (!value) return;
  const json::array* array = value->if_array();
  if (!array) {
    problem(field_path(path_, key),
            fmt::format("must be an array of objects, not {}", type_name(*value)));
    return;
  }
  std::string list = field_path(path_, key);
  for (std::size_t i = 0; i < array->size(); ++i) {
    FieldReader element((*array)[i], field_path(list, i), problems_);
    if (element.is_object()) read(element);
  }
}

void FieldReader::finish() {
  if (finished_ || !object_) return;
  finished_ = true;
  for (const auto& [key, value] : *object_)
    if (!seen_.contains(std::string_view(key)))
      problem(field_path(path_, std::string_view(key)), "unknown field");
}

}  // namespace bh::admin
