#include "store/database.hpp"

#include <charconv>
#include <chrono>
#include <exception>
#include <string>

#include "store/postgres_database.hpp"
#include "store/sqlite_database.hpp"
#include "store/store_error.hpp"
#include "util/clock.hpp"

namespace bh::store {

std::int64_t Row::integer(std::size_t i) const {
  const Value& value = columns.at(i);
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), parsed);
    if (ec == std::errc() && end == text->data() + text->size()) return parsed;
  }
  return 0;
}

std::string Row::text(std::size_t i) const {
  const Value& value = columns.at(i);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* number = std::get_if<std::int64_t>(&value)) return std::to_string(*number);
  return {};
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::sqlite:
      return "sqlite";
    case Backend::postgresql:
      return "postgresql";
  }
  return "unknown";
}

Result<Rows> Database::query(std::string_view sql, const Params& params) {
  Rows rows;
  Status done = transaction([&](Connection& connection) -> Status {
    auto result = connection.query(sql, params);
    if (!result) return result.error();
    rows = std::move(*result);
    return ok_status();
  });
  if (!done) return done.error();
  return rows;
}

Result<std::int64_t> Database::execute(std::string_view sql, const Params& params) {
  std::int64_t changed = 0;
  Status done = transaction([&](Connection& connection) -> Status {
    auto result = connection.execute(sql, params);
    if (!result) return result.error();
    changed = *result;
    return ok_status();
  });
  if (!done) return done.error();
  return changed;
}

namespace {

// Any fixed number: every Bridgehead node takes the same lock.
constexpr std::string_view kLockMigrations = "SELECT pg_advisory_xact_lock(4242000009)";

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS bh_schema_migrations ("
    " component TEXT NOT NULL, version BIGINT NOT NULL, applied_at BIGINT NOT NULL,"
    " PRIMARY KEY (component, version))";

Status check_order(std::string_view component, const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return store_error(StoreErrc::invalid, "store: migrations of " + std::string(component) +
                                                 " must be numbered 1, 2, 3, ... in order (found " +
                                                 std::to_string(migrations[i].version) +
                                                 " at position " + std::to_string(i + 1) + ")");
  return ok_status();
}

}  // namespace

Status Database::migrate(std::string_view component, const std::vector<Migration>& migrations) {
  if (Status order = check_order(component, migrations); !order) return order;
  const std::int64_t newest = static_cast<std::int64_t>(migrations.size());
  const std::string name(component);
  // One transaction per step; each takes the lock first and reads the
  // recorded version again, so a node that starts at the same time applies
  // nothing twice (SQLite: BEGIN IMMEDIATE is the lock).
  for (std::int64_t step = 0; step <= newest; ++step) {
    bool finished = false;
    Status done = transaction([&](Connection& connection) -> Status {
      if (backend() == Backend::postgresql)
        if (auto locked = connection.query(kLockMigrations); !locked) return locked.error();
      if (Status created = connection.execute_script(kCreateMigrationsTable); !created)
        return created;
      auto recorded = connection.query(
          "SELECT MAX(version) FROM bh_schema_migrations WHERE component = $1", {name});
      if (!recorded) return recorded.error();
      std::int64_t current = recorded->empty() ? 0 : recorded->front().integer(0);
      if (current > newest)
        return store_error(StoreErrc::invalid,
                           "store " + describe() + ": " + name + " schema version " +
                               std::to_string(current) + " is newer than this Bridgehead's " +
                               std::to_string(newest) + " (a newer release wrote it)");
      if (current >= newest) {
        finished = true;
        return ok_status();
      }
      const Migration& next = migrations[static_cast<std::size_t>(current)];
      std::string_view text = backend() == Backend::postgresql && !next.postgresql.empty()
                                  ? next.postgresql
                                  : next.sqlite;
      if (Status applied = connection.execute_script(text); !applied)
        return Error{"store " + describe() + ": " + name + " migration " +
                         std::to_string(next.version) + ": " + applied.error().message,
                     applied.error().code};
      auto recorded_step = connection.execute(
          "INSERT INTO bh_schema_migrations (component, version, applied_at) VALUES ($1, $2, $3)",
          {name, std::int64_t{next.version}, unix_now()});
      if (!recorded_step) return recorded_step.error();
      return ok_status();
    });
    if (!done) return done;
    if (finished) break;
  }
  return ok_status();
}

Result<std::shared_ptr<Database>> open_database(const StoreSettings& settings) {
  if (settings.backend == "sqlite") return open_sqlite_database(settings);
  if (settings.backend == "postgresql") return open_postgres_database(settings);
  return store_error(StoreErrc::invalid,
                     "store: unknown backend \"" + settings.backend + "\" (sqlite or postgresql)");
}

}  // namespace bh::store
