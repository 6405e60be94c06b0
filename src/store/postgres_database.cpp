#include "store/postgres_database.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store_error.hpp"

namespace bh::store {
namespace {

// Type OIDs of the columns returned as integers (PostgreSQL's
// catalog/pg_type_d.h, which only the server's headers ship).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// A dead peer on an idle TCP connection is noticed after about
// idle + interval * count seconds.
constexpr const char* kKeepalivesIdle = "10";
constexpr const char* kKeepalivesInterval = "3";
constexpr const char* kKeepalivesCount = "3";

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnectionPtr = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// How many statements a connection keeps prepared; when it has that many,
// they are all deallocated the next time it goes back to the pool (so
// one-off texts, such as the last statement of a batch, cannot crowd out
// the hot ones for good).
constexpr std::size_t kPreparedPerConnection = 64;
// Longer statements run unprepared: they are the batches of many rows
// (store/batch.hpp), whose parsing is a small part of their time and whose
// texts would only take memory.
constexpr std::size_t kPreparedTextLimit = 4096;

// A pooled connection and the statements prepared on it. A statement is
// prepared at its first use on the connection and run by name from then
// on: the server parses and plans it once per connection instead of at
// every call, a large part of a short lookup (measured with libpq
// against a local server: 1.3 to 2.5 times the lookups per second).
struct Session {
  ConnectionPtr conn;
  std::unordered_map<std::string, std::string> prepared;  // SQL text -> statement name
};
using SessionPtr = std::unique_ptr<Session>;

// libpq's messages end in a newline and may hold tabs and newlines.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  for (char& c : text)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

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

class PostgresDatabase;

// One pooled connection inside a transaction.
class PostgresConnection final : public Connection {
 public:
  PostgresConnection(PostgresDatabase& database, Session& session)
      : database_(database), session_(session), conn_(session.conn.get()) {}
  Result<Rows> query(std::string_view sql, const Params& params) override;
  Result<std::int64_t> execute(std::string_view sql, const Params& params) override;
  Status execute_script(std::string_view sql) override;

 private:
  Result<ResultPtr> run(std::string_view sql, const Params& params);
  // The name `text` is prepared under on this connection (prepared now at
  // its first use); "" when the connection keeps as many as it may or the
  // text is too long (it then runs unprepared).
  Result<std::string> prepared(const std::string& text);
  PostgresDatabase& database_;
  Session& session_;
  PGconn* conn_;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const StoreSettings& settings)
      : settings_(settings), description_(describe_url(settings.url)) {}

  Backend backend() const override { return Backend::postgresql; }
  std::string describe() const override { return description_; }

  Status transaction(const std::function<Status(Connection&)>& fn) override {
    return run_transaction("BEGIN", fn);
  }
  Status read_transaction(const std::function<Status(Connection&)>& fn) override {
    return run_transaction("BEGIN READ ONLY", fn);
  }

  // One statement needs no BEGIN and COMMIT: autocommit is atomic, and
  // it saves two round trips. Not retried on a dead connection: unlike
  // BEGIN, the statement may have run.
  Result<Rows> query(std::string_view sql, const Params& params = {}) override {
    return autocommit<Rows>([&](PostgresConnection& c) { return c.query(sql, params); });
  }
  Result<std::int64_t> execute(std::string_view sql, const Params& params = {}) override {
    return autocommit<std::int64_t>([&](PostgresConnection& c) { return c.execute(sql, params); });
  }

  Error failure(PGconn* conn, const PGresult* result) const {
    if (PQstatus(conn) == CONNECTION_BAD || !result)
      return store_error(StoreErrc::unavailable, "store " + describe() + ": connection lost: " +
                                                     one_line(PQerrorMessage(conn)));
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    return Error{
        "store " + describe() + ": " + one_line(primary ? primary : PQresultErrorMessage(result)),
        code_of(state ? state : "")};
  }

 private:
  // fn between `begin` ("BEGIN", "BEGIN READ ONLY") and COMMIT.
  Status run_transaction(const char* begin, const std::function<Status(Connection&)>& fn) {
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

  Status simple(PGconn* conn, const char* sql) const {
    ResultPtr result(PQexec(conn, sql));
    if (result && PQresultStatus(result.get()) == PGRES_COMMAND_OK) return ok_status();
    return failure(conn, result.get());
  }

  template <typename T, typename Run>
  Result<T> autocommit(Run run) {
    bool reused = false;
    auto leased = acquire(reused);
    if (!leased) return leased.error();
    PostgresConnection connection(*this, **leased);
    Result<T> result = run(connection);
    release(std::move(*leased));  // dropped if the statement left a transaction open
    return result;
  }

  Status commit(PGconn* conn) const {
    ResultPtr result(PQexec(conn, "COMMIT"));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      Error error = failure(conn, result.get());
      if (PQstatus(conn) == CONNECTION_BAD)
        error.message += " (whether the transaction was committed is unknown)";
      return error;
    }
    return ok_status();
  }

  // An idle connection, or a new one while fewer than pool_size are open;
  // otherwise waits (bounded) for one to come back.
  Result<SessionPtr> acquire(bool& reused) {
    std::unique_lock lock(mutex_);
    const auto wait = std::chrono::seconds(settings_.statement_timeout_seconds);
    for (;;) {
      while (!idle_.empty()) {
        SessionPtr session = std::move(idle_.back());
        idle_.pop_back();
        if (still_open(session->conn.get())) {
          reused = true;
          return session;
        }
        --open_;  // the server closed it while it was idle
      }
      if (open_ < settings_.pool_size) break;
      if (!returned_.wait_for(lock, wait,
                              [this] { return !idle_.empty() || open_ < settings_.pool_size; }))
        return store_error(StoreErrc::unavailable, "store " + describe() + ": all " +
                                                       std::to_string(settings_.pool_size) +
                                                       " connections are busy");
    }
    ++open_;
    lock.unlock();
    auto conn = connect();
    if (!conn) {
      lock.lock();
      --open_;
      returned_.notify_one();
    }
    reused = false;
    return conn;
  }

  // Back to the pool, unless it broke or is left inside a transaction.
  void release(SessionPtr session) {
    PGconn* conn = session->conn.get();
    bool keep = PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    if (keep && session->prepared.size() >= kPreparedPerConnection) {
      keep = simple(conn, "DEALLOCATE ALL").ok();
      session->prepared.clear();
    }
    if (!keep) session.reset();
    std::lock_guard lock(mutex_);
    if (keep)
      idle_.push_back(std::move(session));
    else
      --open_;
    returned_.notify_one();
  }

  // An idle connection has nothing to read unless the server said goodbye
  // (a shutdown sends an error, then closes): libpq reads the message at
  // one PQconsumeInput and notices the end only at the next.
  static bool still_open(PGconn* conn) {
    constexpr int kReads = 4;  // goodbye message, end of stream, and some slack
    for (int i = 0; i < kReads; ++i) {
      if (PQstatus(conn) != CONNECTION_OK) return false;
      pollfd fd{PQsocket(conn), POLLIN, 0};
      if (fd.fd < 0) return false;
      if (::poll(&fd, 1, 0) <= 0) break;  // nothing to read: open
      if (PQconsumeInput(conn) == 0) return false;
      while (PGnotify* notify = PQnotifies(conn)) PQfreemem(notify);
    }
    return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
  }

  Result<SessionPtr> connect() const {
    const std::string timeout = std::to_string(settings_.connect_timeout_seconds);
    // dbname with expand_dbname: the configured URI or key=value string;
    // the keywords after it override it.
    const char* keywords[] = {
        "dbname",           "connect_timeout",           "client_encoding",
        "keepalives",       "keepalives_idle",           "keepalives_interval",
        "keepalives_count", "fallback_application_name", nullptr};
    const char* values[] = {
        settings_.url.c_str(), timeout.c_str(),  "UTF8",       "1",    kKeepalivesIdle,
        kKeepalivesInterval,   kKeepalivesCount, "bridgehead", nullptr};
    ConnectionPtr conn(PQconnectdbParams(keywords, values, 1));
    if (!conn)
      return store_error(StoreErrc::unavailable, "store " + describe() + ": out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK)
      return store_error(StoreErrc::unavailable, "store " + describe() + ": cannot connect: " +
                                                     one_line(PQerrorMessage(conn.get())));
    const std::string timeout_sql =
        "SET statement_timeout = " + std::to_string(settings_.statement_timeout_seconds * 1000);
    if (Status set = simple(conn.get(), timeout_sql.c_str()); !set) return set.error();
    auto session = std::make_unique<Session>();
    session->conn = std::move(conn);
    return session;
  }

  StoreSettings settings_;
  std::string description_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<SessionPtr> idle_;
  int open_ = 0;  // idle and leased
};

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

}  // namespace

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
