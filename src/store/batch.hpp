// Many rows in few statements, for both backends: a multi-row
// `INSERT ... VALUES (...), (...)` and a `SELECT ... WHERE key IN (...)`,
// each split into statements of at most kMaxBatchRows rows (keys) and
// kMaxStatementParameters parameters.
//
// Why multi-row VALUES rather than PostgreSQL's unnest($1::text[]) or COPY:
// the store's SQL is one text for both backends (database.hpp) and SQLite
// has neither arrays nor COPY; one statement per thousand rows already
// takes the round trips out of a push (bench/results/directory-*.txt).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "store/database.hpp"

namespace bh::store {

// The most parameters one statement binds: SQLite's limit
// (SQLITE_MAX_VARIABLE_NUMBER, 32766 since 3.32; PostgreSQL's protocol
// allows 65535).
inline constexpr std::size_t kMaxStatementParameters = 32766;
// The most rows (or keys) one batched statement carries. Measured with
// bench/directory (10,000 users): PostgreSQL's push takes 0.44 s at 1000
// rows, 0.50 s at 250 and 0.53 s at 100 (the round trips are gone either
// way); SQLite's takes 0.30 s at 250 but 0.40 s at 1000, because SQLite
// prepares a statement in time that grows faster than its parameters.
inline constexpr std::size_t kMaxBatchRows = 250;

// Rows of one table, `columns` values each, to be inserted together.
class RowBatch {
 public:
  explicit RowBatch(std::size_t columns) : columns_(columns) {}
  // Exactly `columns` values; a row of another width makes insert_rows
  // refuse the batch.
  void add(std::vector<Value> row);
  std::size_t columns() const { return columns_; }
  std::size_t rows() const { return rows_; }
  bool ragged() const { return ragged_; }
  const Params& values() const { return values_; }

 private:
  std::size_t columns_;
  std::size_t rows_ = 0;
  bool ragged_ = false;
  Params values_;
};

// How many rows of `columns` values one statement takes (at least 1).
std::size_t rows_per_statement(std::size_t columns);

// Runs `head` VALUES (...), (...), ... for every row of the batch, e.g.
// head "INSERT INTO t (a, b)" or with a trailing clause in `tail`
// (" ON CONFLICT (a) DO NOTHING"). Returns the rows changed. A ragged
// batch or one of no columns is refused (no statement runs).
Result<std::int64_t> insert_rows(Connection& c, std::string_view head, const RowBatch& batch,
                                 std::string_view tail = {});

// Every row of `select` (ending in "IN", e.g. "SELECT a, b FROM t WHERE a
// IN") for the keys, in statements of at most kMaxBatchRows keys each. No
// keys: no statement, no rows.
Result<Rows> select_in(Connection& c, std::string_view select, const std::vector<Value>& keys);

}  // namespace bh::store
