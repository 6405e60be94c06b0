#include "store/sqlite_session.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "store/batch.hpp"
#include "store/store_error.hpp"

namespace bh::store {
namespace {

// Prepared statements kept per SQL text; a component has a few dozen.
constexpr std::size_t kStatementCacheSize = 128;

// What callers tell apart (store_error.hpp); other codes are bugs in the
// SQL and carry no code.
std::error_code code_of(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return make_error_code(StoreErrc::conflict);
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return make_error_code(StoreErrc::invalid);
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return make_error_code(StoreErrc::invalid);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return make_error_code(StoreErrc::unavailable);
  }
  return {};
}

bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// The statement as SQLite gets it: each $N of the store's SQL
// (database.hpp) becomes ?N, which SQLite binds at index N. SQLite would
// read "$N" as a named parameter and find its index by a linear search per
// parameter, which a batch statement of thousands cannot afford. Quoted
// text, quoted identifiers and comments are copied as they are. Each N
// found goes to `numbers`, once, in order.
Result<std::string> sqlite_text(std::string_view sql, std::vector<std::size_t>& numbers) {
  std::string out;
  out.reserve(sql.size());
  std::vector<bool> seen;
  std::size_t i = 0;
  auto copy_to = [&](std::size_t end) {
    end = std::min(end, sql.size());
    out.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      // 'it''s' is two quoted pieces back to back: the same text.
      const char close = c == '[' ? ']' : c;
      std::size_t end = sql.find(close, i + 1);
      copy_to(end == std::string_view::npos ? sql.size() : end + 1);
    } else if (c == '-' && next == '-') {
      std::size_t end = sql.find('\n', i);
      copy_to(end == std::string_view::npos ? sql.size() : end + 1);
    } else if (c == '/' && next == '*') {
      std::size_t end = sql.find("*/", i + 2);
      copy_to(end == std::string_view::npos ? sql.size() : end + 2);
    } else if (c == '?') {
      return store_error(StoreErrc::invalid, "store: placeholder ? is not $1..$n");
    } else if (c == '$' && next >= '0' && next <= '9' && (i == 0 || !identifier_char(sql[i - 1]))) {
      std::size_t end = i + 1;
      while (end < sql.size() && identifier_char(sql[end])) ++end;
      std::string_view name = sql.substr(i, end - i);
      std::size_t number = 0;
      bool valid = name[1] != '0' && name.size() <= 6;
      for (char d : name.substr(1)) {
        valid = valid && d >= '0' && d <= '9';
        if (valid) number = number * 10 + static_cast<std::size_t>(d - '0');
      }
      if (!valid || number > kMaxStatementParameters)
        return store_error(StoreErrc::invalid,
                           fmt::format("store: placeholder {} is not $1..$n", name));
      if (seen.size() <= number) seen.resize(number + 1);
      seen[number] = true;
      out += '?';
      out.append(name.substr(1));
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  for (std::size_t n = 1; n < seen.size(); ++n)
    if (seen[n]) numbers.push_back(n);
  return out;
}

Value column(sqlite3_stmt* statement, int c) {
  switch (sqlite3_column_type(statement, c)) {
    case SQLITE_INTEGER:
      return std::int64_t{sqlite3_column_int64(statement, c)};
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_FLOAT:
      return fmt::format("{}", sqlite3_column_double(statement, c));
    case SQLITE_BLOB: {
      const void* data = sqlite3_column_blob(statement, c);
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
      return data ? std::string(static_cast<const char*>(data), size) : std::string();
    }
    default: {
      const unsigned char* data = sqlite3_column_text(statement, c);
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
      return data ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
    }
  }
}

}  // namespace

Result<std::unique_ptr<SqliteSession>> SqliteSession::open(const StoreSettings& settings,
                                                           Role role) {
  const std::string& path = settings.path;
  auto unavailable = [&path](const std::string& reason) {
    return store_error(StoreErrc::unavailable, "store sqlite " + path + ": " + reason);
  };
  if (path.empty()) return store_error(StoreErrc::invalid, "store sqlite: no path");
  const bool writer = role == Role::writer;
  if (writer) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return unavailable("cannot create " + parent.string() + ": " + ec.message());
  }
  sqlite3* db = nullptr;
  // NOMUTEX: one thread at a time uses a session (sqlite_database.cpp).
  // A reader opens read-write all the same: WAL readers write the shared
  // memory index, and query_only refuses the statements that would write.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return unavailable(reason);
  }
  sqlite3_extended_result_codes(db, 1);
  // The busy timeout first: switching to WAL waits for another opener.
  sqlite3_busy_timeout(db, settings.statement_timeout_seconds * 1000);
  // synchronous=FULL: a change is on disk when its transaction returns, as
  // a queue file is after its fsync. The reader finds the file in WAL
  // already (journal_mode is kept in the file).
  const char* pragmas =
      writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
             : "PRAGMA query_only=ON; PRAGMA foreign_keys=ON;";
  // A new file is switched to WAL by its first opener; a second process that
  // opens it at that moment gets SQLITE_BUSY here without the busy handler
  // being asked, so the switch is retried until the timeout.
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(settings.statement_timeout_seconds);
  char* message = nullptr;
  int pragma_rc;
  while ((pragma_rc = sqlite3_exec(db, pragmas, nullptr, nullptr, &message)) != SQLITE_OK &&
         (pragma_rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
    sqlite3_free(message);
    message = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pragma_rc != SQLITE_OK) {
    std::string reason = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    sqlite3_close(db);
    return unavailable(reason);
  }
  return std::unique_ptr<SqliteSession>(new SqliteSession(db, path, role));
}

SqliteSession::~SqliteSession() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.statement);
  sqlite3_close(db_);
}

bool SqliteSession::idle() const {
  return sqlite3_get_autocommit(db_) != 0;
}

Status SqliteSession::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return ok_status();
  std::string reason = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return failure(sqlite3_extended_errcode(db_), reason);
}

Error SqliteSession::failure(int rc, const std::string& reason) const {
  // A write on a read connection (query_only) is a bug in the caller, not
  // an outage to retry; the extended SQLITE_READONLY_* codes stay outages.
  if (role_ == Role::reader && rc == SQLITE_READONLY)
    return Error{"store " + describe() + ": a write on a read connection: " + reason};
  return Error{"store " + describe() + ": " + reason, code_of(rc)};
}

Result<std::string> SqliteSession::journal_mode() {
  auto rows = query("PRAGMA journal_mode", {});
  if (!rows) return rows.error();
  if (rows->empty()) return std::string();
  return rows->front().text(0);
}

Result<Rows> SqliteSession::query(std::string_view sql, const Params& params) {
  auto cached = statement(sql);
  if (!cached) return cached.error();
  if (Status bound = bind(**cached, params); !bound) return bound.error();
  Rows rows;
  if (Status done = run((*cached)->statement, &rows); !done) return done.error();
  return rows;
}

Result<std::int64_t> SqliteSession::execute(std::string_view sql, const Params& params) {
  auto cached = statement(sql);
  if (!cached) return cached.error();
  if (Status bound = bind(**cached, params); !bound) return bound.error();
  if (Status done = run((*cached)->statement, nullptr); !done) return done.error();
  return std::int64_t{sqlite3_changes64(db_)};
}

Result<bool> SqliteSession::reads_only(std::string_view sql) {
  auto cached = statement(sql);
  if (!cached) return cached.error();
  return sqlite3_stmt_readonly((*cached)->statement) != 0;
}

// A prepared statement from the cache (made at its first use).
Result<SqliteSession::Cached*> SqliteSession::statement(std::string_view sql) {
  std::string key(sql);
  auto found = statements_.find(key);
  if (found == statements_.end()) {
    auto made = prepare_new(key);
    if (!made) return made.error();
    if (statements_.size() >= kStatementCacheSize) {
      for (auto& [text, cached] : statements_) sqlite3_finalize(cached.statement);
      statements_.clear();
    }
    found = statements_.emplace(std::move(key), std::move(*made)).first;
  }
  return &found->second;
}

Result<SqliteSession::Cached> SqliteSession::prepare_new(const std::string& sql) {
  Cached made{nullptr, {}};
  auto text = sqlite_text(sql, made.numbers);
  if (!text) return text.error();
  int rc = sqlite3_prepare_v3(db_, text->data(), static_cast<int>(text->size()),
                              SQLITE_PREPARE_PERSISTENT, &made.statement, nullptr);
  if (rc != SQLITE_OK) return failure(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
  if (!made.statement) return store_error(StoreErrc::invalid, "store: empty statement");
  // Any other parameter SQLite found (?, :name, $name) is not the store's.
  std::vector<bool> ours(static_cast<std::size_t>(sqlite3_bind_parameter_count(made.statement)) +
                         1);
  for (std::size_t number : made.numbers)
    if (number < ours.size()) ours[number] = true;
  for (std::size_t i = 1; i < ours.size(); ++i) {
    const char* name =
        ours[i] ? nullptr : sqlite3_bind_parameter_name(made.statement, static_cast<int>(i));
    if (name) {
      sqlite3_finalize(made.statement);
      return store_error(StoreErrc::invalid,
                         fmt::format("store: placeholder {} is not $1..$n", name));
    }
  }
  return made;
}

// Like PostgreSQL, every parameter given must be used and no other may
// appear.
Status SqliteSession::bind(const Cached& cached, const Params& params) {
  sqlite3_stmt* statement = cached.statement;
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);
  std::vector<bool> used(params.size(), false);
  for (std::size_t number : cached.numbers) {
    if (number > params.size())
      return store_error(StoreErrc::invalid, fmt::format("store: ${} given no value ({} given)",
                                                         number, params.size()));
    used[number - 1] = true;
    const Value& value = params[number - 1];
    const int index = static_cast<int>(number);  // ?N is bound at N
    int rc = SQLITE_OK;
    if (const auto* integer = std::get_if<std::int64_t>(&value))
      rc = sqlite3_bind_int64(statement, index, *integer);
    else if (const auto* text = std::get_if<std::string>(&value))
      rc = sqlite3_bind_text64(statement, index, text->data(), text->size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
    else
      rc = sqlite3_bind_null(statement, index);
    if (rc != SQLITE_OK) return failure(rc, sqlite3_errstr(rc));
  }
  for (std::size_t i = 0; i < used.size(); ++i)
    if (!used[i])
      return store_error(StoreErrc::invalid,
                         fmt::format("store: parameter ${} is not used by the statement", i + 1));
  return ok_status();
}

// Steps through the statement; rows are collected when rows is set.
Status SqliteSession::run(sqlite3_stmt* statement, Rows* rows) {
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    if (!rows) continue;
    Row row;
    int columns = sqlite3_column_count(statement);
    row.columns.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) row.columns.push_back(column(statement, c));
    rows->push_back(std::move(row));
  }
  Status result = ok_status();
  if (rc != SQLITE_DONE) result = failure(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);  // no copy of a value outlives its call
  return result;
}

}  // namespace bh::store
