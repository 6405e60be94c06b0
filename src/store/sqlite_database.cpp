#include "store/sqlite_database.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_session.hpp"
#include "store/store_error.hpp"

namespace bh::store {
namespace {

// The Connection a transaction's fn gets: its session, writer or reader.
class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(SqliteSession& session) : session_(session) {}
  Result<Rows> query(std::string_view sql, const Params& params) override {
    return session_.query(sql, params);
  }
  Result<std::int64_t> execute(std::string_view sql, const Params& params) override {
    return session_.execute(sql, params);
  }
  Status execute_script(std::string_view sql) override { return session_.exec(sql); }

 private:
  SqliteSession& session_;
};

// fn inside BEGIN (begin: "BEGIN IMMEDIATE" or "BEGIN") ... COMMIT;
// rolled back when it fails or throws.
Status run_transaction(SqliteSession& session, const char* begin,
                       const std::function<Status(Connection&)>& fn) {
  if (Status begun = session.exec(begin); !begun) return begun;
  SqliteConnection connection(session);
  Status result = ok_status();
  try {
    result = fn(connection);
  } catch (const std::exception& e) {
    result = Error{"store " + session.describe() + ": " + e.what()};
  } catch (...) {
    result = Error{"store " + session.describe() + ": unknown exception"};
  }
  if (result) {
    result = session.exec("COMMIT");
    if (result) return result;
  }
  // A failed COMMIT may have left the transaction open; without one,
  // ROLLBACK fails harmlessly.
  (void)session.exec("ROLLBACK");
  return result;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const StoreSettings& settings, std::unique_ptr<SqliteSession> writer, bool readers)
      : settings_(settings),
        wait_(std::chrono::seconds(settings.statement_timeout_seconds)),
        writer_(std::move(writer)),
        readers_(readers) {}

  Backend backend() const override { return Backend::sqlite; }
  std::string describe() const override { return writer_->describe(); }

  Status transaction(const std::function<Status(Connection&)>& fn) override {
    if (Status nested = refuse_nested(); !nested) return nested;
    // Another thread's transaction (a push) may hold the writer for long:
    // the wait ends at statement_timeout, as a wait for another process's
    // lock does in SQLite's busy handler.
    std::unique_lock lock(writer_mutex_, std::defer_lock);
    if (!lock.try_lock_for(wait_))
      return store_error(StoreErrc::unavailable,
                         "store " + describe() + ": the writer is busy (another transaction of " +
                             "this process held it longer than statement_timeout, " +
                             std::to_string(settings_.statement_timeout_seconds) + " s)");
    owner_.store(std::this_thread::get_id());
    struct Release {
      std::atomic<std::thread::id>& owner;
      ~Release() { owner.store(std::thread::id()); }
    } release{owner_};
    return run_transaction(*writer_, "BEGIN IMMEDIATE", fn);
  }

  Status read_transaction(const std::function<Status(Connection&)>& fn) override {
    if (!readers_) return transaction(fn);
    if (Status nested = refuse_nested(); !nested) return nested;
    auto reader = lease_reader();
    if (!reader) return reader.error();
    // A deferred BEGIN: the snapshot is taken at the first SELECT and kept
    // to COMMIT.
    Status done = run_transaction(**reader, "BEGIN", fn);
    give_back(std::move(*reader));
    return done;
  }

  // A statement that only reads runs on a reader; one that writes (INSERT
  // ... RETURNING) in a write transaction, as execute() does.
  Result<Rows> query(std::string_view sql, const Params& params) override {
    if (!readers_) return Database::query(sql, params);
    if (Status nested = refuse_nested(); !nested) return nested.error();
    auto reader = lease_reader();
    if (!reader) return reader.error();
    auto reads_only = (*reader)->reads_only(sql);
    if (!reads_only || !*reads_only) {
      give_back(std::move(*reader));
      if (!reads_only) return reads_only.error();  // the SQL is wrong, wherever it runs
      return Database::query(sql, params);
    }
    auto rows = (*reader)->query(sql, params);
    give_back(std::move(*reader));
    return rows;
  }

 private:
  // The writer's mutex is not recursive, and a reader would not see the
  // writes of the transaction this thread has open.
  Status refuse_nested() const {
    if (owner_.load() == std::this_thread::get_id())
      return Error{"store " + describe() + ": a transaction inside a transaction"};
    return ok_status();
  }

  // An idle reader, or a new one while fewer than kSqliteReadConnections
  // are open; otherwise waits (bounded) for one to come back.
  Result<std::unique_ptr<SqliteSession>> lease_reader() {
    std::unique_lock lock(readers_mutex_);
    auto free = [this] { return !idle_.empty() || open_ < kSqliteReadConnections; };
    if (!returned_.wait_for(lock, wait_, free))
      return store_error(StoreErrc::unavailable, "store " + describe() + ": all " +
                                                     std::to_string(kSqliteReadConnections) +
                                                     " read connections are busy");
    if (!idle_.empty()) {
      std::unique_ptr<SqliteSession> reader = std::move(idle_.back());
      idle_.pop_back();
      return reader;
    }
    ++open_;
    lock.unlock();
    auto opened = SqliteSession::open(settings_, SqliteSession::Role::reader);
    if (!opened) {
      lock.lock();
      --open_;
      returned_.notify_one();
    }
    return opened;
  }

  // Back to the idle readers, unless a transaction was left open on it.
  void give_back(std::unique_ptr<SqliteSession> reader) {
    const bool keep = reader->idle();
    if (!keep) reader.reset();
    std::lock_guard lock(readers_mutex_);
    if (keep)
      idle_.push_back(std::move(reader));
    else
      --open_;
    returned_.notify_one();
  }

  StoreSettings settings_;
  std::chrono::seconds wait_;
  std::unique_ptr<SqliteSession> writer_;  // closed last: it checkpoints the WAL
  bool readers_;                           // the file is in WAL: reads may use readers
  std::timed_mutex writer_mutex_;
  std::atomic<std::thread::id> owner_{};  // the thread inside a write transaction
  std::mutex readers_mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<SqliteSession>> idle_;
  int open_ = 0;  // readers idle and leased
};

}  // namespace

Result<std::shared_ptr<Database>> open_sqlite_database(const StoreSettings& settings) {
  auto writer = SqliteSession::open(settings, SqliteSession::Role::writer);
  if (!writer) return writer.error();
  auto mode = (*writer)->journal_mode();
  if (!mode) return mode.error();
  const bool wal = *mode == "wal";
  return std::shared_ptr<Database>(
      std::make_shared<SqliteDatabase>(settings, std::move(*writer), wal));
}

}  // namespace bh::store
