// CSV as RFC 4180 and spreadsheets write it, for the directory's files
// (users_csv.hpp, numbers_csv.hpp): records with line numbers for errors,
// a header row naming the columns, and the writer whose output the reader
// reads back unchanged.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace bh::directory {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // where the record starts
};

// Records separated by CRLF (or LF), fields by ','; a field in double
// quotes may hold ',', CR, LF and "" (one quote). Unquoted fields lose
// surrounding spaces. Lines that start with '#' are comments; records whose
// fields are all empty are dropped. A UTF-8 byte order mark (Excel) is
// skipped. Errors name source and line.
Result<std::vector<CsvRecord>> read_csv_records(std::string_view text, const std::string& source);

// The header row: which column each name is in. Names are compared without
// case and surrounding spaces.
class CsvColumns {
 public:
  // Every required name present; every name one of required or optional,
  // once. The error names the line.
  static Result<CsvColumns> read(const CsvRecord& header, const std::vector<std::string>& required,
                                 const std::vector<std::string>& optional,
                                 const std::string& source);

  std::size_t size() const { return names_.size(); }
  // "address,tenant,permissions": as the file names them, for messages.
  std::string joined() const;
  // The field of column name in record, or nullopt when the file has no
  // such column.
  std::optional<std::string> field(const CsvRecord& record, std::string_view name) const;

 private:
  std::vector<std::string> names_;  // lower case, in the file's order
};

// value as one CSV field: quoted when it holds ',', '"', CR or LF, starts
// or ends with a space, or starts with '#' (which would read as a comment
// at the start of a line). No spreadsheet formula guard: exports must read
// back as they were.
// How many row errors an import reports before it stops reading.
constexpr std::size_t kMaxCsvErrors = 20;
// The errors of an import as one message, a line each ("where: (stopped
// after 20 errors)" when it stopped early).
Error joined_csv_errors(const std::vector<std::string>& errors, const std::string& where);

std::string csv_field(std::string_view value);
// One record with CRLF.
std::string csv_record(const std::vector<std::string>& fields);

// The parts of a ';'-separated list, trimmed, empty parts dropped; and back.
std::vector<std::string> split_list(std::string_view text);
std::string join_list(const std::vector<std::string>& items);

}  // namespace bh::directory
