#include "directory/sqlite_directory.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "mail/address.hpp"
#include "policy/trust_policy.hpp"

namespace bh::directory {
namespace {

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  while (true) {
    std::size_t cut = text.find(separator);
    std::string part(text.substr(0, cut));
    while (!part.empty() && part.back() == ' ') part.pop_back();
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (!part.empty()) parts.push_back(part);
    if (cut == std::string_view::npos) return parts;
    text.remove_prefix(cut + 1);
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ";") + p;
  return out;
}

std::string column(sqlite3_stmt* stmt, int index) {
  const unsigned char* text = sqlite3_column_text(stmt, index);
  return text ? reinterpret_cast<const char*>(text) : "";
}

}  // namespace

Result<std::unique_ptr<SqliteDirectory>> SqliteDirectory::open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"directory " + path + ": " + reason};
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS users ("
      "  address TEXT PRIMARY KEY, tenant TEXT NOT NULL, permissions TEXT NOT NULL);";
  if (sqlite3_exec(db, schema, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string reason = error ? error : "schema error";
    sqlite3_free(error);
    sqlite3_close(db);
    return Error{"directory " + path + ": " + reason};
  }
  return std::unique_ptr<SqliteDirectory>(new SqliteDirectory(db));
}

SqliteDirectory::~SqliteDirectory() {
  sqlite3_close(db_);
}

std::optional<User> SqliteDirectory::find_user(const std::string& address) const {
  std::lock_guard lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT address, tenant, permissions FROM users WHERE address = ?",
                         -1, &s.stmt, nullptr) != SQLITE_OK)
    return std::nullopt;
  std::string key = to_lower_ascii(address);
  sqlite3_bind_text(s.stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return std::nullopt;
  return User{column(s.stmt, 0), column(s.stmt, 1), split(column(s.stmt, 2), ';')};
}

Status SqliteDirectory::replace_users(const std::vector<User>& users) {
  std::lock_guard lock(mutex_);
  auto exec = [this](const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); };
  if (exec("BEGIN IMMEDIATE") != SQLITE_OK) return Error{sqlite3_errmsg(db_)};
  Statement s;
  bool good = exec("DELETE FROM users") == SQLITE_OK &&
              sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO users VALUES (?, ?, ?)", -1, &s.stmt,
                                 nullptr) == SQLITE_OK;
  for (std::size_t i = 0; good && i < users.size(); ++i) {
    std::string permissions = join(users[i].permissions);
    sqlite3_bind_text(s.stmt, 1, users[i].address.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.stmt, 2, users[i].tenant.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.stmt, 3, permissions.c_str(), -1, SQLITE_TRANSIENT);
    good = sqlite3_step(s.stmt) == SQLITE_DONE;
    sqlite3_reset(s.stmt);
  }
  if (!good) {
    std::string reason = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    return Error{"directory import: " + reason};
  }
  if (exec("COMMIT") != SQLITE_OK) return Error{sqlite3_errmsg(db_)};
  return ok_status();
}

Result<std::vector<User>> SqliteDirectory::list() const {
  std::lock_guard lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT address, tenant, permissions FROM users ORDER BY address", -1,
                         &s.stmt, nullptr) != SQLITE_OK)
    return Error{sqlite3_errmsg(db_)};
  std::vector<User> users;
  while (sqlite3_step(s.stmt) == SQLITE_ROW)
    users.push_back({column(s.stmt, 0), column(s.stmt, 1), split(column(s.stmt, 2), ';')});
  return users;
}

Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source) {
  std::vector<User> users;
  std::istringstream lines{std::string(text)};
  std::string line;
  std::size_t number = 0;
  bool header_seen = false;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    auto fields = split(line, ',');
    if (!header_seen) {
      header_seen = true;
      if (fields.size() == 3 && fields[0] == "address" && fields[1] == "tenant" &&
          fields[2] == "permissions")
        continue;
      return Error{
          fmt::format("{}:{}: the first line must be: address,tenant,permissions", source, number)};
    }
    if (fields.size() < 2 || fields.size() > 3)
      return Error{fmt::format("{}:{}: expected address,tenant,permissions", source, number)};
    auto parsed = parse_path("<" + fields[0] + ">", false, true);
    if (!parsed.address)
      return Error{fmt::format("{}:{}: '{}' is not a mail address", source, number, fields[0])};
    std::string tenant = to_lower_ascii(fields[1]);
    if (!is_tenant_guid(tenant))
      return Error{fmt::format("{}:{}: '{}' is not a tenant id (GUID)", source, number, fields[1])};
    users.push_back({to_lower_ascii(fields[0]), tenant,
                     fields.size() == 3 ? split(fields[2], ';') : std::vector<std::string>{}});
  }
  return users;
}

}  // namespace bh::directory
