// The PostgreSQL backend's database: opening it, its transactions, and its
// errors by SQLSTATE (store_error.hpp). Its pool is postgres_pool.cpp, the
// statements postgres_connection.cpp.
#include "store/postgres_database.hpp"

#include <libpq-fe.h>

#include <cstring>
#include <exception>
#include <string>

#include "store/postgres_internal.hpp"
#include "store/store_error.hpp"

namespace bh::store {
namespace postgres_detail {

// libpq's messages end in a newline and may hold tabs and newlines.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  for (char& c : text)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

namespace {

// What callers tell apart (store_error.hpp), by SQLSTATE; other codes are
// bugs in the SQL and carry no code.
std::error_code code_of(std::string_view state) {
  if (state == "23505") return make_error_code(StoreErrc::conflict);  // unique_violation
  // Parameters given but not used, or used but not given (as the SQLite
  // backend refuses them).
  if (state == "08P01" || state == "42P02" || state == "42P18")
    return make_error_code(StoreErrc::invalid);
  std::string_view klass = state.substr(0, 2);
  if (klass == "22" || klass == "23")
    return make_error_code(StoreErrc::invalid);  // data, constraint
  // Connection, shutdown, statement timeout, resources, serialisation,
  // locks, system errors: try again later.
  if (klass == "08" || klass == "53" || klass == "58" || klass == "40" || state == "57014" ||
      state == "57P01" || state == "57P02" || state == "57P03" || state == "55P03")
    return make_error_code(StoreErrc::unavailable);
  return {};
}

// What names the server without its password: host, port, database, user.
std::string describe_url(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  PQfreemem(error);
  if (!options) return "postgresql (invalid connection string)";
  std::string out = "postgresql";
  for (const char* wanted : {"host", "hostaddr", "port", "dbname", "user"})
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (o->val && *o->val && std::strcmp(o->keyword, wanted) == 0)
        out += std::string(" ") + wanted + "=" + o->val;
  PQconninfoFree(options);
  return out;
}

}  // namespace

PostgresDatabase::PostgresDatabase(const StoreSettings& settings)
    : settings_(settings), description_(describe_url(settings.url)) {}

Error PostgresDatabase::failure(PGconn* conn, const PGresult* result) const {
  if (PQstatus(conn) == CONNECTION_BAD || !result)
    return store_error(StoreErrc::unavailable, "store " + describe() + ": connection lost: " +
                                                   one_line(PQerrorMessage(conn)));
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  return Error{
      "store " + describe() + ": " + one_line(primary ? primary : PQresultErrorMessage(result)),
      code_of(state ? state : "")};
}

// fn between `begin` ("BEGIN", "BEGIN READ ONLY") and COMMIT.
Status PostgresDatabase::run_transaction(const char* begin,
                                         const std::function<Status(Connection&)>& fn) {
  // A connection from the pool may have died since its last use (the
  // server restarted): BEGIN fails before anything happened, so one new
  // connection is tried.
  SessionPtr session;
  for (int attempt = 0; !session; ++attempt) {
    bool reused = false;
    auto leased = acquire(reused);
    if (!leased) return leased.error();
    Status begun = simple((*leased)->conn.get(), begin);
    if (begun) {
      session = std::move(*leased);
      break;
    }
    bool broken = PQstatus((*leased)->conn.get()) == CONNECTION_BAD;
    release(std::move(*leased));
    if (!(broken && reused && attempt == 0)) return begun;
  }

  PGconn* conn = session->conn.get();
  PostgresConnection connection(*this, *session);
  Status result = ok_status();
  try {
    result = fn(connection);
  } catch (const std::exception& e) {
    result = Error{"store " + describe() + ": " + e.what()};
  } catch (...) {
    result = Error{"store " + describe() + ": unknown exception"};
  }
  // COMMIT of a transaction in which a statement failed quietly rolls
  // back: that is an error too.
  if (result && PQtransactionStatus(conn) == PQTRANS_INERROR)
    result = Error{"store " + describe() + ": a statement of the transaction failed"};
  if (result) {
    result = commit(conn);
  } else if (PQstatus(conn) == CONNECTION_OK) {
    (void)simple(conn, "ROLLBACK");
  }
  release(std::move(session));
  return result;
}

Status PostgresDatabase::simple(PGconn* conn, const char* sql) const {
  ResultPtr result(PQexec(conn, sql));
  if (result && PQresultStatus(result.get()) == PGRES_COMMAND_OK) return ok_status();
  return failure(conn, result.get());
}

Status PostgresDatabase::commit(PGconn* conn) const {
  ResultPtr result(PQexec(conn, "COMMIT"));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    Error error = failure(conn, result.get());
    if (PQstatus(conn) == CONNECTION_BAD)
      error.message += " (whether the transaction was committed is unknown)";
    return error;
  }
  return ok_status();
}

}  // namespace postgres_detail

using postgres_detail::one_line;
using postgres_detail::PostgresDatabase;

Result<std::shared_ptr<Database>> open_postgres_database(const StoreSettings& settings) {
  if (settings.url.empty())
    return store_error(StoreErrc::invalid, "store postgresql: no url (a libpq connection string)");
  if (settings.pool_size < 1)
    return store_error(StoreErrc::invalid, "store postgresql: pool_size must be at least 1");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(settings.url.c_str(), &error);
  if (!options) {
    // libpq's reason names the bad keyword or syntax (never echoes a value
    // it understood, such as a password).
    std::string reason = error ? one_line(error) : "out of memory";
    PQfreemem(error);
    return store_error(StoreErrc::invalid, "store postgresql: url: " + reason);
  }
  PQconninfoFree(options);
  return std::shared_ptr<Database>(std::make_shared<PostgresDatabase>(settings));
}

}  // namespace bh::store
