// The users CSV of `bridgehead directory import` and `export`: what
// spreadsheets write, checked line by line (docs/directory.md).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "directory/model.hpp"
#include "util/result.hpp"

namespace bh::directory {

struct CsvOptions {
  bool allow_empty = false;  // a file without users is refused unless set
  // For numbers written without a country code ([directory] default_region).
  std::string default_region;
};

struct CsvUser {
  User user;
  std::size_t line = 0;  // where its row starts in the file
};

// CSV (directory/csv.hpp: RFC 4180, an optional UTF-8 BOM, quoted fields
// with "" for a quote and commas or line breaks inside) whose first line
// names the columns, in any order: address, tenant and permissions, and
// optionally display_name, aliases, fax_numbers, mobile_numbers and send_as
// (the files before the full model have just the first three). Lists are
// separated by ';'; permissions are service names; numbers become E.164;
// an address may appear once. An unknown column is an error. Errors name
// the line (up to 20, one a line); the bytes of the file they quote are
// escaped (\xHH).
Result<std::vector<CsvUser>> read_users_csv(std::string_view text, const std::string& source,
                                            const CsvOptions& options = {});
Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source,
                                          const CsvOptions& options = {});

// Every column, one row per user in the order given, CRLF line ends:
// read_users_csv reads it back to the same users.
std::string write_users_csv(const std::vector<User>& users);

// One warning line per permission that is not the service of any route
// (`services`), naming the lines that grant it.
std::vector<std::string> unused_permission_warnings(const std::vector<CsvUser>& users,
                                                    const std::set<std::string>& services,
                                                    const std::string& source);

}  // namespace bh::directory
