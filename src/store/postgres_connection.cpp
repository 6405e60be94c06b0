// The PostgreSQL backend's connection inside a transaction: statements
// prepared at their first use, text parameters, and the rows they return.
#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "store/postgres_internal.hpp"
#include "store/store_error.hpp"

namespace bh::store::postgres_detail {
namespace {

// Type OIDs of the columns returned as integers (PostgreSQL's
// catalog/pg_type_d.h, which only the server's headers ship).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// Longer statements run unprepared: they are the batches of many rows
// (store/batch.hpp), whose parsing is a small part of their time and whose
// texts would only take memory.
constexpr std::size_t kPreparedTextLimit = 4096;

}  // namespace

Result<ResultPtr> PostgresConnection::run(std::string_view sql, const Params& params) {
  std::string text(sql);
  if (text.find('\0') != std::string::npos)
    return store_error(StoreErrc::invalid, "store: a statement with a NUL byte");
  // Text parameters: integers in decimal, the server converts them to the
  // column's type. PostgreSQL's text cannot hold a NUL byte.
  std::vector<std::string> numbers(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
      numbers[i] = std::to_string(*integer);
      values[i] = numbers[i].c_str();
    } else if (const auto* value = std::get_if<std::string>(&params[i])) {
      if (value->find('\0') != std::string::npos)
        return store_error(StoreErrc::invalid, "store " + database_.describe() + ": $" +
                                                   std::to_string(i + 1) +
                                                   " holds a NUL byte, which text cannot hold");
      values[i] = value->c_str();
    }
  }
  auto name = prepared(text);
  if (!name) return name.error();
  const int count = static_cast<int>(params.size());
  ResultPtr result(
      name->empty()
          ? PQexecParams(conn_, text.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0)
          : PQexecPrepared(conn_, name->c_str(), count, values.data(), nullptr, nullptr, 0));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    return database_.failure(conn_, result.get());
  return result;
}

Result<std::string> PostgresConnection::prepared(const std::string& text) {
  if (auto found = session_.prepared.find(text); found != session_.prepared.end())
    return found->second;
  if (session_.prepared.size() >= kPreparedPerConnection || text.size() > kPreparedTextLimit)
    return std::string();
  // Parameter types are left to the server, as PQexecParams leaves them.
  std::string name = "bh_" + std::to_string(session_.prepared.size() + 1);
  ResultPtr made(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
  if (!made || PQresultStatus(made.get()) != PGRES_COMMAND_OK)
    return database_.failure(conn_, made.get());
  session_.prepared.emplace(text, name);
  return name;
}

Result<Rows> PostgresConnection::query(std::string_view sql, const Params& params) {
  auto result = run(sql, params);
  if (!result) return result.error();
  PGresult* r = result->get();
  const int rows = PQntuples(r);
  const int columns = PQnfields(r);
  Rows out;
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    Row row;
    row.columns.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c)) {
        row.columns.emplace_back(std::monostate{});
        continue;
      }
      const char* value = PQgetvalue(r, i, c);
      auto size = static_cast<std::size_t>(PQgetlength(r, i, c));
      Oid type = PQftype(r, c);
      if (type == kBoolOid) {
        row.columns.emplace_back(std::int64_t{value[0] == 't' ? 1 : 0});
      } else if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
        std::int64_t number = 0;
        std::from_chars(value, value + size, number);
        row.columns.emplace_back(number);
      } else {
        row.columns.emplace_back(std::string(value, size));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::int64_t> PostgresConnection::execute(std::string_view sql, const Params& params) {
  auto result = run(sql, params);
  if (!result) return result.error();
  const char* tuples = PQcmdTuples(result->get());
  std::int64_t changed = 0;
  if (tuples && *tuples) std::from_chars(tuples, tuples + std::strlen(tuples), changed);
  return changed;
}

Status PostgresConnection::execute_script(std::string_view sql) {
  std::string text(sql);
  if (text.find('\0') != std::string::npos)
    return store_error(StoreErrc::invalid, "store: a statement with a NUL byte");
  ResultPtr result(PQexec(conn_, text.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    return database_.failure(conn_, result.get());
  return ok_status();
}

}  // namespace bh::store::postgres_detail
