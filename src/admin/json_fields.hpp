// Strict reading of request bodies (Boost.JSON): every unknown field, wrong
// type and missing required field is collected with its path
// ("users[2].fax_numbers[0]"), so one 400 names all of them; a body that is
// not JSON is refused with the parser's line and column.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "admin/router.hpp"
#include "util/result.hpp"

namespace bh::admin {

// The whole body as one JSON text (UTF-8, nesting at most 32 deep); the
// error reads "line 3, column 7: syntax error".
Result<boost::json::value> parse_json(std::string_view text);

// "users" + 2 -> "users[2]"; "" + "name" -> "name"; "users[2]" + "name" ->
// "users[2].name".
std::string field_path(std::string_view parent, std::string_view key);
std::string field_path(std::string_view parent, std::size_t index);

// Reads one JSON object. Fields it was not asked for are reported by
// finish() (or the destructor) as unknown.
class FieldReader {
 public:
  // path "" is the body itself; a value that is not an object is one problem.
  FieldReader(const boost::json::value& value, std::string path,
              std::vector<FieldProblem>& problems);
  ~FieldReader() { finish(); }
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  bool is_object() const { return object_ != nullptr; }
  // Whether the object has the field (given, whatever its value).
  bool has(std::string_view key) const { return object_ && object_->contains(key); }

  void text(std::string_view key, std::string& out, bool required = false);
  // A list of strings.
  void strings(std::string_view key, std::vector<std::string>& out, bool required = false);
  // A nested object; read is called with its reader.
  void object(std::string_view key, const std::function<void(FieldReader&)>& read,
              bool required = false);
  // A list of objects; read is called for each element with its reader.
  void objects(std::string_view key, const std::function<void(FieldReader&)>& read,
               bool required = false);

  // Reports the fields that were not read; idempotent.
  void finish();

  const std::string& path() const { return path_; }

 private:
  const boost::json::value* find(std::string_view key, bool required);
  void problem(std::string field, std::string message);

  const boost::json::object* object_ = nullptr;
  std::string path_;
  std::vector<FieldProblem>& problems_;
  std::set<std::string, std::less<>> seen_;
  bool finished_ = false;
};

}  // namespace bh::admin
