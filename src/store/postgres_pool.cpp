// The PostgreSQL backend's pool: up to pool_size connections, opened when
// first needed, checked when taken from the pool, dropped when broken.
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <mutex>
#include <string>

#include "store/postgres_internal.hpp"
#include "store/store_error.hpp"

namespace bh::store::postgres_detail {
namespace {

// A dead peer on an idle TCP connection is noticed after about
// idle + interval * count seconds.
constexpr const char* kKeepalivesIdle = "10";
constexpr const char* kKeepalivesInterval = "3";
constexpr const char* kKeepalivesCount = "3";

}  // namespace

// An idle connection, or a new one while fewer than pool_size are open;
// otherwise waits (bounded) for one to come back.
Result<SessionPtr> PostgresDatabase::acquire(bool& reused) {
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
void PostgresDatabase::release(SessionPtr session) {
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
bool PostgresDatabase::still_open(PGconn* conn) {
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

Result<SessionPtr> PostgresDatabase::connect() const {
  const std::string timeout = std::to_string(settings_.connect_timeout_seconds);
  // dbname with expand_dbname: the configured URI or key=value string;
  // the keywords after it override it.
  const char* keywords[] = {"dbname",           "connect_timeout",           "client_encoding",
                            "keepalives",       "keepalives_idle",           "keepalives_interval",
                            "keepalives_count", "fallback_application_name", nullptr};
  const char* values[] = {
      settings_.url.c_str(), timeout.c_str(),  "UTF8",       "1",    kKeepalivesIdle,
      kKeepalivesInterval,   kKeepalivesCount, "bridgehead", nullptr};
  ConnectionPtr conn(PQconnectdbParams(keywords, values, 1));
  if (!conn) return store_error(StoreErrc::unavailable, "store " + describe() + ": out of memory");
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

}  // namespace bh::store::postgres_detail
