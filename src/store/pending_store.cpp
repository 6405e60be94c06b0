#include "store/pending_store.hpp"

#include <sqlite3.h>

#include "util/sqlite_open.hpp"

namespace bh::store {
namespace {

// One prepared statement, finalized whatever happens.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& text(int index, const std::string& value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& number(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string column_text(int column) const {
    const unsigned char* value = sqlite3_column_text(stmt_, column);
    return value ? std::string(reinterpret_cast<const char*>(value),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                 : std::string();
  }
  std::int64_t column_number(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// The columns read_row() reads, in its order (a macro so that each query
// stays one string literal).
#define BH_PENDING_COLUMNS                                                                  \
  "connector, reference, node, queue_id, recipient, since, deadline, resolved, delivered, " \
  "status, diagnostic, remote_mta"

ResolvedEntry read_row(const Statement& s) {
  ResolvedEntry r;
  r.entry = {s.column_text(0), s.column_text(1),   s.column_text(2),  s.column_text(3),
             s.column_text(4), s.column_number(5), s.column_number(6)};
  r.resolution = {s.column_number(8) != 0, s.column_text(9), s.column_text(10), s.column_text(11)};
  return r;
}

Error failed(const Statement& s, const std::string& what) {
  return Error{"pending store: " + what + ": " + s.error()};
}

}  // namespace

Result<std::unique_ptr<PendingStore>> PendingStore::open(const std::string& path) {
  // synchronous=FULL: a pending recipient or a report is on disk when
  // add() or resolve() returns, as a queue file is after its fsync.
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS pending ("
      "  connector TEXT NOT NULL, reference TEXT NOT NULL, node TEXT NOT NULL DEFAULT '',"
      "  queue_id TEXT NOT NULL DEFAULT '', recipient TEXT NOT NULL DEFAULT '',"
      "  since INTEGER NOT NULL DEFAULT 0, deadline INTEGER NOT NULL DEFAULT 0,"
      "  resolved INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0,"
      "  status TEXT NOT NULL DEFAULT '', diagnostic TEXT NOT NULL DEFAULT '',"
      "  remote_mta TEXT NOT NULL DEFAULT '',"
      "  PRIMARY KEY (connector, reference));"
      "CREATE INDEX IF NOT EXISTS pending_resolved ON pending (node, resolved);";
  auto db = open_sqlite(path, schema, "pending store");
  if (!db) return db.error();
  return std::unique_ptr<PendingStore>(new PendingStore(*db));
}

PendingStore::~PendingStore() {
  sqlite3_close(db_);
}

Status PendingStore::add(const PendingEntry& e) {
  std::lock_guard lock(mutex_);
  // A report that came first (no message yet) keeps its resolution; a
  // reference the foreign system reuses for a new delivery starts afresh.
  Statement s(db_,
              "INSERT INTO pending (connector, reference, node, queue_id, recipient, since, "
              "deadline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (connector, reference) "
              "DO UPDATE SET resolved = CASE WHEN queue_id = '' THEN resolved ELSE 0 END, "
              "node = ?3, queue_id = ?4, recipient = ?5, since = ?6, deadline = ?7");
  if (!s.ok()) return failed(s, "add");
  s.text(1, e.connector).text(2, e.reference).text(3, e.node).text(4, e.queue_id);
  s.text(5, e.recipient).number(6, e.since).number(7, e.deadline);
  if (s.step() != SQLITE_DONE) return failed(s, "add");
  return ok_status();
}

Status PendingStore::resolve(const std::string& connector, const std::string& reference,
                             const PendingResolution& r, std::int64_t now) {
  std::lock_guard lock(mutex_);
  // since: when an early report came (purge_unclaimed forgets it later).
  Statement s(db_,
              "INSERT INTO pending (connector, reference, since, resolved, delivered, status, "
              "diagnostic, remote_mta) VALUES (?1, ?2, ?7, 1, ?3, ?4, ?5, ?6) "
              "ON CONFLICT (connector, reference) DO UPDATE SET resolved = 1, delivered = ?3, "
              "status = ?4, diagnostic = ?5, remote_mta = ?6");
  if (!s.ok()) return failed(s, "resolve");
  s.text(1, connector).text(2, reference).number(3, r.delivered ? 1 : 0).text(4, r.status);
  s.text(5, r.diagnostic).text(6, r.remote_mta).number(7, now);
  if (s.step() != SQLITE_DONE) return failed(s, "resolve");
  return ok_status();
}

Result<std::optional<PendingResolution>> PendingStore::resolution(
    const std::string& connector, const std::string& reference) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT " BH_PENDING_COLUMNS
                   " FROM pending WHERE connector = ?1 AND reference = ?2 AND resolved = 1");
  if (!s.ok()) return failed(s, "read");
  s.text(1, connector).text(2, reference);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<PendingResolution>();
  if (rc != SQLITE_ROW) return failed(s, "read");
  return std::optional<PendingResolution>(read_row(s).resolution);
}

Result<std::optional<PendingEntry>> PendingStore::find(const std::string& connector,
                                                       const std::string& reference) const {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT " BH_PENDING_COLUMNS " FROM pending WHERE connector = ?1 AND reference = ?2");
  if (!s.ok()) return failed(s, "read");
  s.text(1, connector).text(2, reference);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<PendingEntry>();
  if (rc != SQLITE_ROW) return failed(s, "read");
  return std::optional<PendingEntry>(read_row(s).entry);
}

Result<std::vector<ResolvedEntry>> PendingStore::resolved_for(const std::string& node) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT " BH_PENDING_COLUMNS
                   " FROM pending WHERE node = ?1 AND resolved = 1 AND queue_id != ''");
  if (!s.ok()) return failed(s, "read");
  s.text(1, node);
  std::vector<ResolvedEntry> rows;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) rows.push_back(read_row(s));
  if (rc != SQLITE_DONE) return failed(s, "read");
  return rows;
}

Result<std::vector<ResolvedEntry>> PendingStore::list() const {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT " BH_PENDING_COLUMNS " FROM pending ORDER BY since");
  if (!s.ok()) return failed(s, "read");
  std::vector<ResolvedEntry> rows;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) rows.push_back(read_row(s));
  if (rc != SQLITE_DONE) return failed(s, "read");
  return rows;
}

Result<std::size_t> PendingStore::purge_unclaimed(std::int64_t before) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM pending WHERE queue_id = '' AND since < ?1");
  if (!s.ok()) return failed(s, "purge");
  s.number(1, before);
  if (s.step() != SQLITE_DONE) return failed(s, "purge");
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

Status PendingStore::remove(const std::string& connector, const std::string& reference) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM pending WHERE connector = ?1 AND reference = ?2");
  if (!s.ok()) return failed(s, "remove");
  s.text(1, connector).text(2, reference);
  if (s.step() != SQLITE_DONE) return failed(s, "remove");
  return ok_status();
}

#undef BH_PENDING_COLUMNS

}  // namespace bh::store
