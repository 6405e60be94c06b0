// What the PostgreSQL backend's parts share: the pooled session and its
// prepared statements, the connection a transaction runs on
// (postgres_connection.cpp) and the database with its pool
// (postgres_database.cpp, postgres_pool.cpp). Internal to the store.
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/database.hpp"

namespace bh::store::postgres_detail {

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

// libpq's messages on one line (postgres_database.cpp).
std::string one_line(const char* message);

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

// The database: transactions and single statements (postgres_database.cpp)
// on connections from its pool (postgres_pool.cpp).
class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const StoreSettings& settings);

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

  Error failure(PGconn* conn, const PGresult* result) const;

 private:
  Status run_transaction(const char* begin, const std::function<Status(Connection&)>& fn);
  Status simple(PGconn* conn, const char* sql) const;

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

  Status commit(PGconn* conn) const;
  Result<SessionPtr> acquire(bool& reused);
  void release(SessionPtr session);
  static bool still_open(PGconn* conn);
  Result<SessionPtr> connect() const;

  StoreSettings settings_;
  std::string description_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<SessionPtr> idle_;
  int open_ = 0;  // idle and leased
};

}  // namespace bh::store::postgres_detail
