#include "store/batch.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace bh::store {

void RowBatch::add(std::vector<Value> row) {
  if (row.size() != columns_) {
    ragged_ = true;
    return;
  }
  for (Value& value : row) values_.push_back(std::move(value));
  ++rows_;
}

std::size_t rows_per_statement(std::size_t columns) {
  if (columns == 0) return kMaxBatchRows;
  return std::max<std::size_t>(1, std::min(kMaxBatchRows, kMaxStatementParameters / columns));
}

namespace {

// "($1, $2), ($3, $4)" for `rows` groups of `width` placeholders.
std::string placeholders(std::size_t rows, std::size_t width) {
  std::string out;
  out.reserve(rows * width * 8);
  std::size_t next = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t i = 0; i < width; ++i, ++next) {
      if (i > 0) out += ", ";
      out += '$';
      out += std::to_string(next);
    }
    out += ')';
  }
  return out;
}

}  // namespace

Result<std::int64_t> insert_rows(Connection& c, std::string_view head, const RowBatch& batch,
                                 std::string_view tail) {
  const std::size_t width = batch.columns();
  if (batch.ragged() || width == 0)
    return Error{fmt::format("store: a batch of {} columns for \"{}\" has a row of another width",
                             width, head)};
  const std::size_t per_statement = rows_per_statement(width);
  std::int64_t changed = 0;
  // The text of a full statement is built once; only the last may be shorter.
  std::string full_sql;
  for (std::size_t first = 0; first < batch.rows(); first += per_statement) {
    const std::size_t rows = std::min(per_statement, batch.rows() - first);
    std::string sql;
    if (rows == per_statement && !full_sql.empty()) {
      sql = full_sql;
    } else {
      sql = fmt::format("{} VALUES {}{}", head, placeholders(rows, width), tail);
      if (rows == per_statement) full_sql = sql;
    }
    const auto begin = batch.values().begin() + static_cast<std::ptrdiff_t>(first * width);
    Params params(begin, begin + static_cast<std::ptrdiff_t>(rows * width));
    auto done = c.execute(sql, params);
    if (!done) return done.error();
    changed += *done;
  }
  return changed;
}

Result<Rows> select_in(Connection& c, std::string_view select, const std::vector<Value>& keys) {
  const std::size_t per_statement = rows_per_statement(1);
  Rows out;
  for (std::size_t first = 0; first < keys.size(); first += per_statement) {
    const std::size_t count = std::min(per_statement, keys.size() - first);
    std::string list;
    for (std::size_t i = 1; i <= count; ++i) list += fmt::format("{}${}", i == 1 ? "" : ", ", i);
    const auto begin = keys.begin() + static_cast<std::ptrdiff_t>(first);
    auto rows = c.query(fmt::format("{} ({})", select, list),
                        Params(begin, begin + static_cast<std::ptrdiff_t>(count)));
    if (!rows) return rows.error();
    for (Row& row : *rows) out.push_back(std::move(row));
  }
  return out;
}

}  // namespace bh::store
