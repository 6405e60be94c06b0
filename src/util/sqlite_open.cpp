#include "util/sqlite_open.hpp"

#include <sqlite3.h>

#include <filesystem>

namespace bh {

Result<sqlite3*> open_sqlite(const std::string& path, const char* schema, std::string_view what) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{std::string(what) + " " + path + ": " + reason};
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string reason = error ? error : "schema error";
    sqlite3_free(error);
    sqlite3_close(db);
    return Error{std::string(what) + " " + path + ": " + reason};
  }
  return db;
}

}  // namespace bh
