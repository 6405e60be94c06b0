#include "directory/csv.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh::directory {
namespace {

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

}  // namespace

Result<std::vector<CsvRecord>> read_csv_records(std::string_view text, const std::string& source) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM (Excel)
  std::vector<CsvRecord> records;
  std::size_t line = 1;
  std::size_t pos = 0;
  auto at_end_of_record = [&](std::size_t i) {
    return i >= text.size() || text[i] == '\n' ||
           (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
  };
  auto skip_newline = [&](std::size_t& i) {
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
  };
  while (pos < text.size()) {
    if (text[pos] == '#') {  // comment line
      while (!at_end_of_record(pos)) ++pos;
      skip_newline(pos);
      continue;
    }
    CsvRecord record;
    record.line = line;
    while (true) {
      std::string field;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] == ' ') ++pos;
      if (pos < text.size() && text[pos] == '"') {
        std::size_t opened = line;
        ++pos;
        while (true) {
          if (pos >= text.size())
            return Error{fmt::format("{}:{}: a quoted field is not closed (a '\"' is missing)",
                                     printable(source), opened)};
          char c = text[pos++];
          if (c == '"') {
            if (pos < text.size() && text[pos] == '"') {
              field.push_back('"');
              ++pos;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
        }
        while (pos < text.size() && text[pos] == ' ') ++pos;
        if (pos < text.size() && text[pos] != ',' && !at_end_of_record(pos))
          return Error{fmt::format(
              "{}:{}: text after a quoted field's closing '\"' (write a quote inside one as \"\")",
              printable(source), line)};
      } else {
        pos = start;
        while (pos < text.size() && text[pos] != ',' && !at_end_of_record(pos)) {
          if (text[pos] == '"')
            return Error{fmt::format(
                "{}:{}: '\"' inside a field that does not start with one (quote the whole field "
                "and write the quote as \"\")",
                printable(source), line)};
          field.push_back(text[pos++]);
        }
        while (!field.empty() && field.back() == ' ') field.pop_back();
        while (!field.empty() && field.front() == ' ') field.erase(0, 1);
      }
      record.fields.push_back(std::move(field));
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      skip_newline(pos);
      break;
    }
    bool blank = std::all_of(record.fields.begin(), record.fields.end(),
                             [](const std::string& f) { return f.empty(); });
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

Result<CsvColumns> CsvColumns::read(const CsvRecord& header,
                                    const std::vector<std::string>& required,
                                    const std::vector<std::string>& optional,
                                    const std::string& source) {
  std::string where = fmt::format("{}:{}", printable(source), header.line);
  std::string columns_are = "the columns are " + listed(required);
  if (!optional.empty()) columns_are += " and optionally " + listed(optional);
  CsvColumns columns;
  for (const std::string& field : header.fields) {
    std::string name = lower_trimmed(field);
    bool known = std::find(required.begin(), required.end(), name) != required.end() ||
                 std::find(optional.begin(), optional.end(), name) != optional.end();
    if (!known) {
      std::string hint;
      if (header.fields.size() == 1 && field.find(';') != std::string::npos)
        hint = " (the file is separated by ';': save it as \"CSV UTF-8 (comma delimited)\")";
      return Error{fmt::format("{}: unknown column '{}' ({}){}", where, printable(field),
                               columns_are, hint)};
    }
    if (std::find(columns.names_.begin(), columns.names_.end(), name) != columns.names_.end())
      return Error{fmt::format("{}: column '{}' is named twice", where, name)};
    columns.names_.push_back(name);
  }
  for (const std::string& name : required)
    if (std::find(columns.names_.begin(), columns.names_.end(), name) == columns.names_.end())
      return Error{fmt::format("{}: the column '{}' is missing ({})", where, name, columns_are)};
  return columns;
}

std::string CsvColumns::joined() const {
  return listed(names_);
}

std::optional<std::string> CsvColumns::field(const CsvRecord& record, std::string_view name) const {
  auto found = std::find(names_.begin(), names_.end(), name);
  if (found == names_.end()) return std::nullopt;
  std::size_t index = static_cast<std::size_t>(found - names_.begin());
  return index < record.fields.size() ? record.fields[index] : std::string();
}

std::string csv_field(std::string_view value) {
  bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos || value.starts_with(' ') ||
               value.ends_with(' ') || value.starts_with('#');
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string csv_record(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
  return out + "\r\n";
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> parts;
  while (true) {
    std::size_t cut = text.find(';');
    std::string part(text.substr(0, cut));
    while (!part.empty() && part.back() == ' ') part.pop_back();
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (!part.empty()) parts.push_back(part);
    if (cut == std::string_view::npos) return parts;
    text.remove_prefix(cut + 1);
  }
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ";") + item;
  return out;
}

Error joined_csv_errors(const std::vector<std::string>& errors, const std::string& where) {
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "\n") + e;
  if (errors.size() >= kMaxCsvErrors)
    joined += fmt::format("\n{}: (stopped after {} errors)", where, kMaxCsvErrors);
  return Error{joined};
}

}  // namespace bh::directory
