// Stores for the tests of both backends: an SQLite file in a temporary
// folder, or a fresh database on a real PostgreSQL server. The server is
// the ctest fixture's (BH_TEST_POSTGRES_URL, or BH_TEST_POSTGRES_URL_FILE
// naming the file its start wrote) or, in a manual run, one this process
// starts through tests/support/postgres-server. No PostgreSQL: the tests
// fail, they do not skip.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "store/database.hpp"

#ifndef BH_TEST_SUPPORT_DIR
#error "tests/CMakeLists.txt defines BH_TEST_SUPPORT_DIR"
#endif

namespace bh::store {
// Test names and ctest show "sqlite" / "postgresql", not the enum's bytes.
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << backend_name(backend);
}
}  // namespace bh::store

namespace bh::test {

// Runs a shell command; its standard output, or nullopt when it failed.
inline std::optional<std::string> run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[512];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A PostgreSQL server of its own in a folder directly under the temporary
// directory (the postgres user must reach it), removed at destruction.
class PostgresServer {
 public:
  PostgresServer() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bh-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data())) dir_ = pattern;
  }
  ~PostgresServer() {
    if (!dir_.empty()) (void)run_command(script() + " remove " + shell_quote(dir_));
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // The connection string, or "" when the server did not start.
  std::string start() {
    if (dir_.empty()) return {};
    auto url = run_command(script() + " start " + shell_quote(dir_) + " 2>&1");
    return url ? *url : std::string();
  }
  bool stop() { return run_command(script() + " stop " + shell_quote(dir_)).has_value(); }

  static std::string script() { return std::string(BH_TEST_SUPPORT_DIR) + "/postgres-server"; }

 private:
  std::string dir_;
};

// The server every PostgreSQL test of this process uses.
inline const std::string& shared_postgres_url() {
  static const std::string url = []() -> std::string {
    if (const char* given = std::getenv("BH_TEST_POSTGRES_URL"); given && *given) return given;
    if (const char* file = std::getenv("BH_TEST_POSTGRES_URL_FILE"); file && *file) {
      std::ifstream in(file);
      std::string line;
      std::getline(in, line);
      return line;
    }
    static PostgresServer own;  // removed when the process exits
    return own.start();
  }();
  return url;
}

// The connection string with another database name (a libpq URI or
// key=value string in, key=value out).
inline std::string with_dbname(const std::string& url, const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return {};
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    std::string keyword = o->keyword;
    if (keyword == "dbname" || !o->val) continue;
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\'' || *c == '\\') value += '\\';
      value += *c;
    }
    out += keyword + "='" + value + "' ";
  }
  PQconninfoFree(options);
  return out + "dbname='" + dbname + "'";
}

// Runs one statement outside a transaction (CREATE/DROP DATABASE).
inline std::string admin_command(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  return error;
}

// A database of its own on a server, dropped at destruction.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(const std::string& server_url) : server_url_(server_url) {
    static std::atomic<int> counter{0};
    name_ = "bh_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    error_ = admin_command(server_url_, "CREATE DATABASE " + name_);
    if (error_.empty()) url_ = with_dbname(server_url_, name_);
  }
  ~ScratchDatabase() {
    if (!url_.empty()) (void)admin_command(server_url_, "DROP DATABASE " + name_ + " WITH (FORCE)");
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // "" when the database could not be made (error() says why).
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
  std::string error_;
};

// The settings of a fresh, empty store of one backend. ok() false: the
// store could not be set up (message() says why; the test must fail).
class TestStore {
 public:
  explicit TestStore(store::Backend backend, const std::string& server_url = {})
      : backend_(backend) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bh-store-XXXXXX").string();
    if (::mkdtemp(pattern.data())) dir_ = pattern;
    settings_.backend = std::string(store::backend_name(backend));
    settings_.path = dir_ + "/store.db";
    if (backend == store::Backend::postgresql) {
      std::string server = server_url.empty() ? shared_postgres_url() : server_url;
      if (server.empty()) {
        problem_ = "no PostgreSQL server: " + PostgresServer::script() +
                   " could not start one (is postgresql installed? see scripts/install-deps)";
        return;
      }
      scratch_.emplace(server);
      if (scratch_->url().empty()) {
        problem_ = "PostgreSQL at " + server + ": " + scratch_->error();
        return;
      }
      settings_.url = scratch_->url();
      settings_.connect_timeout_seconds = 2;
    }
  }
  ~TestStore() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  bool ok() const { return problem_.empty() && !dir_.empty(); }
  const std::string& message() const { return problem_; }
  const store::StoreSettings& settings() const { return settings_; }
  store::Backend backend() const { return backend_; }
  const std::string& dir() const { return dir_; }

  // Another opener of the same store (another process or node).
  std::shared_ptr<store::Database> open() const {
    auto database = store::open_database(settings_);
    EXPECT_TRUE(database.ok()) << (database.ok() ? "" : database.error().message);
    return database.ok() ? *database : nullptr;
  }

 private:
  store::Backend backend_;
  std::string dir_;
  store::StoreSettings settings_;
  std::optional<ScratchDatabase> scratch_;
  std::string problem_;
};

inline std::string backend_test_name(const ::testing::TestParamInfo<store::Backend>& info) {
  return std::string(store::backend_name(info.param));
}

}  // namespace bh::test
