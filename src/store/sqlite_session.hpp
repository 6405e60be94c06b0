// One SQLite connection of the embedded backend (sqlite_database.cpp): the
// statements it keeps prepared, the store's $N bound as ?N, the rows it
// reads and the store's error codes (store_error.hpp). Not thread-safe: its
// owner hands it to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/database.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bh::store {

class SqliteSession {
 public:
  enum class Role {
    // Creates the file and its folder, switches it to WAL with
    // synchronous=FULL; every write of the process goes through it.
    writer,
    // Opened after the writer, on its file, with query_only: a statement
    // that would write fails. WAL lets it read next to the writer's
    // transaction (it sees what was committed when its read began).
    reader,
  };

  // Cannot open: StoreErrc::unavailable.
  static Result<std::unique_ptr<SqliteSession>> open(const StoreSettings& settings, Role role);
  ~SqliteSession();
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  // "sqlite var/bridgehead.db", as errors name the store.
  std::string describe() const { return "sqlite " + path_; }

  // Statements without parameters separated by ';' (BEGIN, a migration).
  Status exec(std::string_view sql);
  Result<Rows> query(std::string_view sql, const Params& params);
  Result<std::int64_t> execute(std::string_view sql, const Params& params);
  // Whether the statement only reads (SQLite's own verdict on the prepared
  // statement, which stays cached for the query that follows).
  Result<bool> reads_only(std::string_view sql);
  // No transaction left open on it.
  bool idle() const;
  // The journal mode in force ("wal"; another where the file system has no
  // shared memory for it).
  Result<std::string> journal_mode();

 private:
  struct Cached {
    sqlite3_stmt* statement;
    std::vector<std::size_t> numbers;  // each $N of the text, once, in order
  };

  SqliteSession(sqlite3* db, std::string path, Role role)
      : db_(db), path_(std::move(path)), role_(role) {}
  Error failure(int rc, const std::string& reason) const;
  Result<Cached*> statement(std::string_view sql);
  Result<Cached> prepare_new(const std::string& sql);
  Status bind(const Cached& cached, const Params& params);
  Status run(sqlite3_stmt* statement, Rows* rows);

  sqlite3* db_;
  std::string path_;
  Role role_;
  std::unordered_map<std::string, Cached> statements_;
};

}  // namespace bh::store
