// Reading TOML tables with errors that name file, line and key: the
// configuration loader and every connector kind's settings parser use it,
// so an unknown or mistyped key is reported the same way everywhere.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace bh {

// Reads one table, checking types and reporting unknown keys.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, const std::string& source,
              std::vector<std::string>& errors)
      : table_(table), path_(std::move(path)), source_(source), errors_(errors) {}

  ~TableReader() {
    for (auto&& [key, node] : table_)
      if (!seen_.contains(std::string(key.str())))
        error(node, std::string(key.str()), "unknown key");
  }

  void error(const toml::node& node, const std::string& key, const std::string& message) {
    errors_.push_back(
        fmt::format("{}:{}: {}: {}", source_, node.source().begin.line, qualified(key), message));
  }
  void missing(const std::string& key) {
    errors_.push_back(fmt::format("{}:{}: {}: required key is missing", source_,
                                  table_.source().begin.line, qualified(key)));
  }

  const toml::node* node(const std::string& key) {
    seen_.insert(key);
    return table_.get(key);
  }

  void text(const std::string& key, std::string& out, bool required = false) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) missing(key);
      return;
    }
    if (auto value = n->value<std::string>()) {
      out = *value;
    } else {
      error(*n, key, "must be a string");
    }
  }

  // A file or directory name: as text(), but "" (which would silently mean
  // the current directory, or nothing) and NUL bytes are errors.
  void path(const std::string& key, std::string& out, bool required = false) {
    text(key, out, required);
    const toml::node* n = table_.get(key);
    if (!n || !n->is_string()) return;
    std::string value = *n->value<std::string>();
    if (value.empty())
      error(*n, key, "must not be empty: name a file or directory");
    else if (value.find('\0') != std::string::npos)
      error(*n, key, "must not contain a NUL byte");
  }

  // Line of the key's value, or of the table when the key is absent.
  std::size_t line(const std::string& key) const {
    const toml::node* n = table_.get(key);
    return n ? n->source().begin.line : table_.source().begin.line;
  }

  void boolean(const std::string& key, bool& out) {
    const toml::node* n = node(key);
    if (!n) return;
    // is_boolean: toml++ would turn the integer 1 into true.
    if (auto value = n->is_boolean() ? n->value<bool>() : std::nullopt) {
      out = *value;
    } else {
      error(*n, key, "must be true or false");
    }
  }

  template <typename Number>
  void number(const std::string& key, Number& out, std::int64_t min, std::int64_t max) {
    const toml::node* n = node(key);
    if (!n) return;
    auto value = n->is_integer() ? n->value<std::int64_t>() : std::nullopt;
    if (!value || *value < min || *value > max) {
      error(*n, key, fmt::format("must be an integer from {} to {}", min, max));
      return;
    }
    out = static_cast<Number>(*value);
  }

  // required: the key must be present and the list non-empty.
  void strings(const std::string& key, std::vector<std::string>& out, bool required) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) missing(key);
      return;
    }
    const toml::array* array = n->as_array();
    if (!array || (required && array->empty()))
      return error(*n, key,
                   required ? "must be a non-empty list of strings" : "must be a list of strings");
    for (const toml::node& item : *array) {
      auto value = item.value<std::string>();
      if (!value) return error(item, key, "must be a list of strings");
      out.push_back(*value);
    }
  }

  std::string qualified(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  const toml::table& table() const { return table_; }
  const std::string& source() const { return source_; }
  std::vector<std::string>& errors() { return errors_; }

 private:
  const toml::table& table_;
  std::string path_;
  const std::string& source_;
  std::vector<std::string>& errors_;
  std::set<std::string> seen_;
};

// Calls visit(reader) for each table of an array of tables "[[key]]".
template <typename Visit>
void each_table(TableReader& parent, const std::string& source, std::vector<std::string>& errors,
                const std::string& key, Visit visit) {
  const toml::node* n = parent.node(key);
  if (!n) return;
  const toml::array* array = n->as_array();
  if (!array || !array->is_array_of_tables())
    return parent.error(*n, key, fmt::format("must be written as [[{}]] tables", key));
  std::size_t index = 0;
  for (const toml::node& item : *array) {
    TableReader reader(*item.as_table(), fmt::format("{}[{}]", key, index++), source, errors);
    visit(reader);
  }
}

// Calls visit(reader) for the table "[key]" if present.
template <typename Visit>
void one_table(TableReader& parent, const std::string& source, std::vector<std::string>& errors,
               const std::string& key, Visit visit) {
  const toml::node* n = parent.node(key);
  if (!n) return;
  if (!n->is_table()) return parent.error(*n, key, fmt::format("must be a [{}] table", key));
  TableReader reader(*n->as_table(), key, source, errors);
  visit(reader);
}

}  // namespace bh
