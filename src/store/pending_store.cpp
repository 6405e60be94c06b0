#include "store/pending_store.hpp"

namespace bh::store {
namespace {

// Version 1 is the table the SQLite-only store made before migrations
// existed, hence IF NOT EXISTS.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> steps = {
      {1,
       "CREATE TABLE IF NOT EXISTS pending ("
       "  connector TEXT NOT NULL, reference TEXT NOT NULL, node TEXT NOT NULL DEFAULT '',"
       "  queue_id TEXT NOT NULL DEFAULT '', recipient TEXT NOT NULL DEFAULT '',"
       "  since BIGINT NOT NULL DEFAULT 0, deadline BIGINT NOT NULL DEFAULT 0,"
       "  resolved BIGINT NOT NULL DEFAULT 0, delivered BIGINT NOT NULL DEFAULT 0,"
       "  status TEXT NOT NULL DEFAULT '', diagnostic TEXT NOT NULL DEFAULT '',"
       "  remote_mta TEXT NOT NULL DEFAULT '',"
       "  PRIMARY KEY (connector, reference));"
       "CREATE INDEX IF NOT EXISTS pending_resolved ON pending (node, resolved);",
       {}},
      // RecipientResult::report (issue 10: a fax connector's success report).
      {2, "ALTER TABLE pending ADD COLUMN report BIGINT NOT NULL DEFAULT 0;", {}},
      // RecipientResult::diagnostic_type (a fax report is not an SMTP reply).
      {3, "ALTER TABLE pending ADD COLUMN diagnostic_type TEXT NOT NULL DEFAULT 'smtp';", {}},
  };
  return steps;
}

// The columns read_row() reads, in its order (a macro so that each query
// stays one string literal).
#define BH_PENDING_COLUMNS                                                                  \
  "connector, reference, node, queue_id, recipient, since, deadline, resolved, delivered, " \
  "status, diagnostic, remote_mta, report, diagnostic_type"

ResolvedEntry read_row(const Row& row) {
  ResolvedEntry r;
  r.entry = {row.text(0), row.text(1),    row.text(2),   row.text(3),
             row.text(4), row.integer(5), row.integer(6)};
  r.resolution = {row.integer(8) != 0, row.text(9),          row.text(10),
                  row.text(11),        row.integer(12) != 0, row.text(13)};
  return r;
}

Error failed(const Error& error, const std::string& what) {
  return Error{"pending store: " + what + ": " + error.message, error.code};
}

}  // namespace

Result<std::unique_ptr<PendingStore>> PendingStore::open(std::shared_ptr<Database> database) {
  if (Status migrated = database->migrate("pending", migrations()); !migrated)
    return failed(migrated.error(), "open");
  return std::unique_ptr<PendingStore>(new PendingStore(std::move(database)));
}

Status PendingStore::add(const PendingEntry& e) {
  // A report that came first (no message yet) keeps its resolution; a
  // reference the foreign system reuses for a new delivery starts afresh.
  auto done = database_->execute(
      "INSERT INTO pending (connector, reference, node, queue_id, recipient, since, "
      "deadline) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (connector, reference) "
      "DO UPDATE SET resolved = CASE WHEN pending.queue_id = '' THEN pending.resolved ELSE 0 "
      "END, node = $3, queue_id = $4, recipient = $5, since = $6, deadline = $7",
      {e.connector, e.reference, e.node, e.queue_id, e.recipient, e.since, e.deadline});
  if (!done) return failed(done.error(), "add");
  return ok_status();
}

Status PendingStore::resolve(const std::string& connector, const std::string& reference,
                             const PendingResolution& r, std::int64_t now) {
  // since: when an early report came (purge_unclaimed forgets it later).
  auto done = database_->execute(
      "INSERT INTO pending (connector, reference, since, resolved, delivered, status, "
      "diagnostic, remote_mta, report, diagnostic_type) VALUES ($1, $2, $7, 1, $3, $4, $5, $6, "
      "$8, $9) ON CONFLICT (connector, reference) DO UPDATE SET resolved = 1, delivered = $3, "
      "status = $4, diagnostic = $5, remote_mta = $6, report = $8, diagnostic_type = $9",
      {connector, reference, std::int64_t{r.delivered ? 1 : 0}, r.status, r.diagnostic,
       r.remote_mta, now, std::int64_t{r.report ? 1 : 0}, r.diagnostic_type});
  if (!done) return failed(done.error(), "resolve");
  return ok_status();
}

Result<std::optional<PendingResolution>> PendingStore::resolution(
    const std::string& connector, const std::string& reference) const {
  auto rows = database_->query("SELECT " BH_PENDING_COLUMNS
                               " FROM pending WHERE connector = $1 AND reference = $2 AND "
                               "resolved = 1",
                               {connector, reference});
  if (!rows) return failed(rows.error(), "read");
  if (rows->empty()) return std::optional<PendingResolution>();
  return std::optional<PendingResolution>(read_row(rows->front()).resolution);
}

Result<std::optional<PendingEntry>> PendingStore::find(const std::string& connector,
                                                       const std::string& reference) const {
  auto rows = database_->query("SELECT " BH_PENDING_COLUMNS
                               " FROM pending WHERE connector = $1 AND reference = $2",
                               {connector, reference});
  if (!rows) return failed(rows.error(), "read");
  if (rows->empty()) return std::optional<PendingEntry>();
  return std::optional<PendingEntry>(read_row(rows->front()).entry);
}

Result<std::vector<ResolvedEntry>> PendingStore::resolved_for(const std::string& node) const {
  auto rows = database_->query("SELECT " BH_PENDING_COLUMNS
                               " FROM pending WHERE node = $1 AND resolved = 1 AND queue_id != ''",
                               {node});
  if (!rows) return failed(rows.error(), "read");
  std::vector<ResolvedEntry> entries;
  for (const Row& row : *rows) entries.push_back(read_row(row));
  return entries;
}

Result<std::vector<ResolvedEntry>> PendingStore::list() const {
  auto rows = database_->query("SELECT " BH_PENDING_COLUMNS
                               " FROM pending ORDER BY since, connector, reference");
  if (!rows) return failed(rows.error(), "read");
  std::vector<ResolvedEntry> entries;
  for (const Row& row : *rows) entries.push_back(read_row(row));
  return entries;
}

Result<std::size_t> PendingStore::purge_unclaimed(std::int64_t before) {
  auto done =
      database_->execute("DELETE FROM pending WHERE queue_id = '' AND since < $1", {before});
  if (!done) return failed(done.error(), "purge");
  return static_cast<std::size_t>(*done);
}

Status PendingStore::remove(const std::string& connector, const std::string& reference) {
  auto done = database_->execute("DELETE FROM pending WHERE connector = $1 AND reference = $2",
                                 {connector, reference});
  if (!done) return failed(done.error(), "remove");
  return ok_status();
}

#undef BH_PENDING_COLUMNS

}  // namespace bh::store
