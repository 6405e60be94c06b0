// The store the nodes share: directory, message trace, pending references,
// admin tokens. One interface over two backends, SQLite (the embedded
// default, a file under var/) and PostgreSQL (several nodes, pooled
// connections). Each component that keeps tables applies its own versioned
// migrations at start (migrate()).
//
// SQL is written once for both backends: $1, $2, ... placeholders, TEXT and
// BIGINT columns, INSERT ... ON CONFLICT ... DO UPDATE, no backend-only
// functions. Where a statement must differ, Migration holds both texts.
// Every parameter given must be used, and only $1..$n of those given may
// appear (both backends refuse the rest with StoreErrc::invalid). Integer
// columns (and PostgreSQL booleans, as 0/1) come back as int64 on both
// backends. PostgreSQL text cannot hold a NUL byte: such a value is
// refused (invalid), SQLite keeps it. Parameters go to PostgreSQL as text
// of a type it infers from where they stand; where it cannot (`SELECT $1`
// alone), write CAST($1 AS BIGINT). Many rows in few statements:
// store/batch.hpp (at most kMaxStatementParameters parameters a statement).
//
// Errors (store_error.hpp): a UNIQUE or PRIMARY KEY violation is
// `conflict`; other constraint and data errors are `invalid`; a store that
// cannot be reached, a lock or statement over statement_timeout, a lost
// connection are `unavailable`; mistakes in the SQL carry no code.
//
// SQLite has one write connection and a few read connections (WAL: reads
// go on while a write transaction runs). A query() that only reads, and a
// read_transaction(), go to a read connection; everything else to the
// writer. A transaction (or query/execute) started inside a transaction's
// fn is refused: SQLite's writer would wait for itself, and PostgreSQL
// would take a second pooled connection; neither would see the first
// one's uncommitted rows. Reads inside fn go through its Connection.
//
// Every call blocks: never call it on an SMTP I/O thread on the message path
// (the directory is read from its in-memory cache, the trace is written in
// batches by its own thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace bh::store {

// A value bound to or read from a statement: NULL, an integer or text.
using Value = std::variant<std::monostate, std::int64_t, std::string>;
using Params = std::vector<Value>;

struct Row {
  std::vector<Value> columns;

  bool null(std::size_t i) const { return std::holds_alternative<std::monostate>(columns.at(i)); }
  // 0 for NULL; text columns are parsed (PostgreSQL returns text).
  std::int64_t integer(std::size_t i) const;
  // "" for NULL; integers are formatted.
  std::string text(std::size_t i) const;
};
using Rows = std::vector<Row>;

// One connection inside a transaction (Database::transaction).
class Connection {
 public:
  virtual ~Connection() = default;
  // Statements that return rows (SELECT, ... RETURNING).
  virtual Result<Rows> query(std::string_view sql, const Params& params = {}) = 0;
  // Statements that change rows; returns how many.
  virtual Result<std::int64_t> execute(std::string_view sql, const Params& params = {}) = 0;
  // Several statements separated by ';', without parameters (a migration).
  virtual Status execute_script(std::string_view sql) = 0;
};

enum class Backend { sqlite, postgresql };
std::string_view backend_name(Backend backend);

// One schema step of a component. Several statements may be separated by
// ';'. postgresql empty: the same text as sqlite.
struct Migration {
  int version = 0;  // 1, 2, 3, ... in order
  std::string_view sqlite;
  std::string_view postgresql;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Backend backend() const = 0;
  // What names the store in errors and logs ("sqlite var/bridgehead.db",
  // "postgresql host=db1 dbname=bridgehead"; never a password).
  virtual std::string describe() const = 0;

  // fn runs inside one transaction on one connection: committed when it
  // returns ok, rolled back when it fails or throws (the exception is
  // returned as an Error). Durable when transaction() returns ok (SQLite:
  // synchronous=FULL; PostgreSQL: synchronous_commit as the server has it).
  virtual Status transaction(const std::function<Status(Connection&)>& fn) = 0;

  // A transaction whose fn only reads (several SELECTs at one snapshot);
  // a statement of fn that writes fails. SQLite runs it on a read
  // connection, next to a write transaction instead of after it.
  // PostgreSQL: BEGIN READ ONLY (fn may ask for REPEATABLE READ first).
  // A Database that wraps another and does not pass this on: transaction().
  virtual Status read_transaction(const std::function<Status(Connection&)>& fn) {
    return transaction(fn);
  }

  // One statement in a transaction of its own (a backend may run it in
  // autocommit mode, which is the same for one statement).
  virtual Result<Rows> query(std::string_view sql, const Params& params = {});
  virtual Result<std::int64_t> execute(std::string_view sql, const Params& params = {});

  // Applies the component's migrations that the store has not recorded
  // yet, each in its own transaction, and records them (table
  // bh_schema_migrations: component, version, applied_at). Nodes starting
  // at once are serialised. A store whose recorded version is higher than
  // the newest migration (a newer Bridgehead wrote it) is an error.
  Status migrate(std::string_view component, const std::vector<Migration>& migrations);
};

struct StoreSettings {
  std::string backend = "sqlite";          // "sqlite" | "postgresql"
  std::string path = "var/bridgehead.db";  // sqlite
  std::string url;                         // postgresql: a libpq connection string or URI
  // postgresql connections. Above [admin] workers (4 by default), each of
  // which may hold one, so the message path (trace writer, directory poll,
  // pending store) keeps some (checked by the configuration, config_store.cpp).
  int pool_size = 8;
  int connect_timeout_seconds = 5;
  // A statement that takes longer fails with StoreErrc::unavailable instead
  // of holding its caller; so does the wait for a free connection (SQLite:
  // for the writer, held by this process or another, or a free reader).
  int statement_timeout_seconds = 10;
};

Result<std::shared_ptr<Database>> open_database(const StoreSettings& settings);

}  // namespace bh::store
