// [store] in the configuration (server/config_store.cpp).
#include <gtest/gtest.h>

#include "server/config.hpp"
#include "server/config_store.hpp"
#include "store/sqlite_database.hpp"

namespace {

const std::string kBase = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false
)";

bh::Result<bh::Config> parse(const std::string& tables) {
  return bh::parse_config(kBase + tables, "gw.toml");
}

TEST(StoreConfig, DefaultIsSqliteUnderVar) {
  auto config = parse("");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->store.backend, "sqlite");
  EXPECT_EQ(config->store.path, "var/bridgehead.db");
}

TEST(StoreConfig, SqlitePathAndTimeout) {
  auto config = parse(
      "[store]\nbackend = \"sqlite\"\npath = \"/srv/bh/store.db\"\n"
      "statement_timeout = 30\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->store.path, "/srv/bh/store.db");
  EXPECT_EQ(config->store.statement_timeout_seconds, 30);
}

TEST(StoreConfig, PostgresqlWithPool) {
  auto config = parse(
      "[store]\nbackend = \"postgresql\"\n"
      "url = \"postgresql://bh@db1.example:5432/bridgehead?sslmode=verify-full\"\n"
      "pool_size = 16\nconnect_timeout = 3\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->store.backend, "postgresql");
  EXPECT_EQ(config->store.url, "postgresql://bh@db1.example:5432/bridgehead?sslmode=verify-full");
  EXPECT_EQ(config->store.pool_size, 16);
  EXPECT_EQ(config->store.connect_timeout_seconds, 3);
}

// The old name of [store] path still works when [store] does not name one.
TEST(StoreConfig, DirectoryDatabaseIsTheOldNameOfPath) {
  auto config = parse("[directory]\ndatabase = \"var/old.db\"\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->store.path, "var/old.db");
  auto with_store =
      parse("[directory]\ndatabase = \"var/old.db\"\n[store]\nbackend = \"sqlite\"\n");
  ASSERT_TRUE(with_store) << with_store.error().message;
  EXPECT_EQ(with_store->store.path, "var/old.db");
}

struct BadCase {
  std::string tables;
  std::string error;  // the whole message
};

TEST(StoreConfig, MistakesAreReportedWithTheirLine) {
  const BadCase cases[] = {
      {"[store]\nbackend = \"mysql\"\n",
       "gw.toml:8: store.backend: must be \"sqlite\" or \"postgresql\""},
      {"[store]\nbackend = \"postgresql\"\n", "gw.toml:7: store.url: required key is missing"},
      {"[store]\nbackend = \"postgresql\"\nurl = \"\"\n",
       "gw.toml:9: store.url: must not be empty: a libpq connection string"},
      {"[store]\nbackend = \"postgresql\"\nurl = \"host=db1 colour=blue\"\n",
       "gw.toml:9: store.url: is not a libpq connection string: invalid connection option "
       "\"colour\""},
      {"[store]\nbackend = \"postgresql\"\nurl = \"host=db1\"\npool_size = 0\n",
       "gw.toml:10: store.pool_size: must be an integer from 1 to 64"},
      {"[store]\nbackend = \"postgresql\"\nurl = \"host=db1\"\npool_size = 65\n",
       "gw.toml:10: store.pool_size: must be an integer from 1 to 64"},
      {"[store]\nbackend = \"postgresql\"\nurl = \"host=db1\"\npath = \"x.db\"\n",
       "gw.toml:10: store.path: is only for backend = \"sqlite\""},
      // A url without backend = "postgresql" would silently use SQLite.
      {"[store]\nurl = \"host=db1\"\n",
       "gw.toml:8: store.url: is only for backend = \"postgresql\""},
      {"[store]\npool_size = 4\n",
       "gw.toml:8: store.pool_size: is only for backend = \"postgresql\""},
      {"[store]\npath = \"\"\n",
       "gw.toml:8: store.path: must not be empty: name a file or directory"},
      {"[store]\nbackend = \"sqlite\"\npaht = \"x.db\"\n", "gw.toml:9: store.paht: unknown key"},
      {"[directory]\ndatabase = \"a.db\"\n[store]\npath = \"b.db\"\n",
       "gw.toml:10: store.path: is also given as [directory] database (line 8): keep only [store] "
       "path"},
      {"[store]\nstatement_timeout = 0\n",
       "gw.toml:8: store.statement_timeout: must be an integer from 1 to 3600"},
  };
  for (const BadCase& c : cases) {
    auto config = parse(c.tables);
    ASSERT_FALSE(config) << c.tables;
    EXPECT_EQ(config.error().message, c.error) << c.tables;
  }
}

// Each running admin request holds a PostgreSQL connection: a pool no
// larger than the admin workers is said (check-config, the start's log),
// not refused.
TEST(StoreConfig, APoolNotAboveTheAdminWorkersIsWarnedAbout) {
  const std::string postgresql = "[store]\nbackend = \"postgresql\"\nurl = \"host=db1\"\n";
  const std::string admin = "[admin]\nlisten = \"127.0.0.1:8025\"\n";
  auto by_default = parse(postgresql + admin);
  ASSERT_TRUE(by_default) << by_default.error().message;
  EXPECT_EQ(by_default->store.pool_size, 8);
  EXPECT_EQ(bh::store_pool_warning(*by_default), "");

  auto equal = parse(postgresql + "pool_size = 4\n" + admin);
  ASSERT_TRUE(equal) << equal.error().message;
  EXPECT_EQ(bh::store_pool_warning(*equal),
            "gw.toml: store.pool_size (4) is not above [admin] workers (4): each running admin "
            "request holds one of the pool's connections, so while the admin API is busy the "
            "trace writer, the directory's poll and the pending references wait for one (keep "
            "pool_size above workers, e.g. workers + 4; docs/operations.md, \"Pool\")");

  auto more_workers = parse(postgresql + admin + "workers = 12\n");
  ASSERT_TRUE(more_workers) << more_workers.error().message;
  EXPECT_NE(bh::store_pool_warning(*more_workers).find("(8) is not above [admin] workers (12)"),
            std::string::npos);

  // Nothing to say without the admin API.
  auto no_admin = parse(postgresql + "pool_size = 1\n");
  ASSERT_TRUE(no_admin) << no_admin.error().message;
  EXPECT_EQ(bh::store_pool_warning(*no_admin), "");
}

// On SQLite the admin workers share the read connections with the
// scheduler, the pending references and the directory's refresh.
TEST(StoreConfig, SqliteWorkersNotBelowTheReadConnectionsAreWarnedAbout) {
  const std::string admin = "[admin]\nlisten = \"127.0.0.1:8025\"\n";
  auto by_default = parse(admin);
  ASSERT_TRUE(by_default) << by_default.error().message;
  EXPECT_EQ(bh::store_pool_warning(*by_default), "");
  auto below =
      parse(admin + "workers = " + std::to_string(bh::store::kSqliteReadConnections - 1) + "\n");
  ASSERT_TRUE(below) << below.error().message;
  EXPECT_EQ(bh::store_pool_warning(*below), "");
  auto many = parse(admin + "workers = 64\n");
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_NE(bh::store_pool_warning(*many).find("[admin] workers (64) is not below the SQLite "
                                               "store's 8 read connections"),
            std::string::npos)
      << bh::store_pool_warning(*many);
}

}  // namespace
