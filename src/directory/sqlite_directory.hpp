// The directory in SQLite (WAL): one row per user with tenant and
// permissions. Lookups are fresh reads, so an import is seen at once by a
// running gateway.
#pragma once

#include <memory>
#include <mutex>
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

// CSV with the header "address,tenant,permissions"; permissions separated
// by ';'. Errors name the line.
Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source);

}  // namespace bh::directory
