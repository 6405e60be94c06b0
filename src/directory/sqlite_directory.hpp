// The directory in SQLite (WAL): one row per user with tenant and
// permissions. Lookups are fresh reads, so an import is seen at once by a
// running gateway.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "util/result.hpp"

struct sqlite3;

namespace bh::directory {

class SqliteDirectory final : public DirectoryView {
 public:
  static Result<std::unique_ptr<SqliteDirectory>> open(const std::string& path);
  ~SqliteDirectory() override;

  std::optional<User> find_user(const std::string& address) const override;
  Status replace_users(const std::vector<User>& users);
  Result<std::vector<User>> list() const;

 private:
  explicit SqliteDirectory(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  mutable std::mutex mutex_;
};

struct CsvOptions {
  bool allow_empty = false;  // a file without users is refused unless set
};

struct CsvUser {
  User user;
  std::size_t line = 0;  // where its row starts in the file
};

// CSV (RFC 4180, as spreadsheets write it: optional UTF-8 BOM, quoted fields
// with "" for a quote and commas or line breaks inside) with the header
// "address,tenant,permissions"; permissions separated by ';', each a service
// name. Every row needs the three fields (permissions may be empty); an
// address may appear once. Errors name the line (up to 20, one a line); the
// bytes of the file they quote are escaped (\xHH).
Result<std::vector<CsvUser>> read_users_csv(std::string_view text, const std::string& source,
                                            const CsvOptions& options = {});
Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source,
                                          const CsvOptions& options = {});

// One warning line per permission that is not the service of any route
// (`services`), naming the lines that grant it.
std::vector<std::string> unused_permission_warnings(const std::vector<CsvUser>& users,
                                                    const std::set<std::string>& services,
                                                    const std::string& source);

}  // namespace bh::directory
