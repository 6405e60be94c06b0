// What only the PostgreSQL backend does: its pool across a server restart,
// its timeouts, and connection strings that hold a password. (Test names
// contain "postgresql": ctest gives them its PostgreSQL fixture.)
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::Status;
using bh::store::Backend;
using bh::store::Connection;
using bh::store::StoreErrc;
using bh::store::StoreSettings;
using bh::test::PostgresServer;
using bh::test::TestStore;

StoreSettings unreachable(const std::string& url) {
  StoreSettings settings;
  settings.backend = "postgresql";
  settings.url = url;
  settings.connect_timeout_seconds = 2;
  return settings;
}

TEST(StorePostgresql, PoolRecoversAfterTheServerRestarts) {
  PostgresServer server;  // its own: this test stops it
  std::string url = server.start();
  ASSERT_FALSE(url.empty()) << "no PostgreSQL server: " << PostgresServer::script()
                            << " start failed (is postgresql installed?)";
  TestStore store(Backend::postgresql, url);
  ASSERT_TRUE(store.ok()) << store.message();
  StoreSettings settings = store.settings();
  settings.pool_size = 2;
  auto opened = bh::store::open_database(settings);
  ASSERT_TRUE(opened) << opened.error().message;
  auto db = *opened;
  ASSERT_TRUE(db->execute("CREATE TABLE t (x BIGINT)"));
  // Two connections in the pool, both idle when the server goes.
  std::vector<std::thread> both;
  for (int i = 0; i < 2; ++i)
    both.emplace_back([&db, i] { EXPECT_TRUE(db->execute("INSERT INTO t (x) VALUES ($1)", {i})); });
  for (auto& t : both) t.join();

  ASSERT_TRUE(server.stop());
  auto during = db->query("SELECT COUNT(*) FROM t");
  ASSERT_FALSE(during);
  EXPECT_TRUE(is(during.error(), StoreErrc::unavailable)) << during.error().message;

  ASSERT_EQ(server.start(), url);
  for (int i = 0; i < 3; ++i) {  // each call, on whichever connection
    auto after = db->query("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->front().integer(0), 2);
  }
  ASSERT_TRUE(server.stop());
  ASSERT_EQ(server.start(), url);
  // The same for a transaction's connection, and both connections at once.
  std::vector<std::thread> again;
  for (int i = 0; i < 2; ++i)
    again.emplace_back([&db, i] {
      Status done = db->transaction([i](Connection& c) -> Status {
        auto a = c.execute("INSERT INTO t (x) VALUES ($1)", {10 + i});
        if (!a) return a.error();
        return bh::ok_status();
      });
      EXPECT_TRUE(done) << done.error().message;
    });
  for (auto& t : again) t.join();
  auto total = db->query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(total) << total.error().message;
  EXPECT_EQ(total->front().integer(0), 4);
}

TEST(StorePostgresql, NoServerIsUnavailableNotAHang) {
  // A port nothing listens on (the shared server's port + 1 is not
  // guaranteed free, so a reserved one: 1 needs root to bind and is unused).
  auto db = bh::store::open_database(unreachable("host=127.0.0.1 port=1 dbname=x user=bh"));
  ASSERT_TRUE(db) << db.error().message;  // opening does not connect
  auto rows = (*db)->query("SELECT 1");
  ASSERT_FALSE(rows);
  EXPECT_TRUE(is(rows.error(), StoreErrc::unavailable)) << rows.error().message;
  Status migrated = (*db)->migrate("demo", {{1, "CREATE TABLE a (x TEXT)", {}}});
  ASSERT_FALSE(migrated);
  EXPECT_TRUE(is(migrated.error(), StoreErrc::unavailable)) << migrated.error().message;
}

TEST(StorePostgresql, PasswordsAreNeverShown) {
  for (std::string url : {"host=127.0.0.1 port=1 dbname=bh user=gw password=s3cr3t-pw",
                          "postgresql://gw:s3cr3t-pw@127.0.0.1:1/bh"}) {
    auto db = bh::store::open_database(unreachable(url));
    ASSERT_TRUE(db) << db.error().message;
    std::string described = (*db)->describe();
    EXPECT_EQ(described.find("s3cr3t"), std::string::npos) << described;
    EXPECT_NE(described.find("dbname=bh"), std::string::npos) << described;
    EXPECT_NE(described.find("user=gw"), std::string::npos) << described;
    auto rows = (*db)->query("SELECT 1");
    ASSERT_FALSE(rows);
    EXPECT_EQ(rows.error().message.find("s3cr3t"), std::string::npos) << rows.error().message;
  }
}

TEST(StorePostgresql, BadSettingsAreRefusedAtOpen) {
  StoreSettings settings;
  settings.backend = "postgresql";
  auto no_url = bh::store::open_database(settings);
  ASSERT_FALSE(no_url);
  EXPECT_TRUE(is(no_url.error(), StoreErrc::invalid));
  settings.url = "host=127.0.0.1 colour=blue";
  auto bad_key = bh::store::open_database(settings);
  ASSERT_FALSE(bad_key);
  EXPECT_TRUE(is(bad_key.error(), StoreErrc::invalid));
  EXPECT_NE(bad_key.error().message.find("colour"), std::string::npos) << bad_key.error().message;
}

TEST(StorePostgresql, AStatementOverItsTimeoutIsUnavailable) {
  TestStore store(Backend::postgresql);
  ASSERT_TRUE(store.ok()) << store.message();
  StoreSettings settings = store.settings();
  settings.statement_timeout_seconds = 1;
  auto db = bh::store::open_database(settings);
  ASSERT_TRUE(db);
  auto slow = (*db)->query("SELECT pg_sleep(30)");
  ASSERT_FALSE(slow);
  EXPECT_TRUE(is(slow.error(), StoreErrc::unavailable)) << slow.error().message;
  auto next = (*db)->query("SELECT 1");  // the connection goes on
  ASSERT_TRUE(next) << next.error().message;
}

// A statement that failed inside fn, its error ignored: the transaction is
// aborted, and transaction() says so instead of reporting a commit.
TEST(StorePostgresql, AnIgnoredFailureInsideATransactionIsNotACommit) {
  TestStore store(Backend::postgresql);
  ASSERT_TRUE(store.ok()) << store.message();
  auto db = store.open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute("CREATE TABLE t (x BIGINT PRIMARY KEY)"));
  Status done = db->transaction([](Connection& c) -> Status {
    (void)c.execute("INSERT INTO t (x) VALUES ($1)", {1});
    (void)c.execute("INSERT INTO t (x) VALUES ($1)", {1});  // conflict, ignored
    return bh::ok_status();
  });
  EXPECT_FALSE(done);
  auto rows = db->query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->front().integer(0), 0);
}

// Statements are prepared per connection and run by name; more distinct
// texts than a connection keeps prepared still answer right, before and
// after the connection deallocates them, and a rolled-back transaction
// does not take a prepared statement with it.
TEST(StorePostgresql, PreparedStatementsAnswerLikeUnpreparedOnes) {
  TestStore store(Backend::postgresql);
  ASSERT_TRUE(store.ok()) << store.message();
  StoreSettings settings = store.settings();
  settings.pool_size = 1;  // every call on the same connection
  auto opened = bh::store::open_database(settings);
  ASSERT_TRUE(opened) << opened.error().message;
  auto db = *opened;
  for (int round = 0; round < 2; ++round)
    for (int k = 0; k < 200; ++k) {
      auto rows = db->query("SELECT CAST($1 AS BIGINT) + " + std::to_string(k), {round});
      ASSERT_TRUE(rows) << rows.error().message;
      EXPECT_EQ(rows->front().integer(0), round + k);
    }
  ASSERT_TRUE(db->execute("CREATE TABLE t (x BIGINT PRIMARY KEY)"));
  const std::string insert = "INSERT INTO t (x) VALUES ($1)";
  Status failed = db->transaction([&](Connection& c) -> Status {
    if (auto done = c.execute(insert, {1}); !done) return done.error();
    return bh::Error{"rolled back on purpose"};
  });
  ASSERT_FALSE(failed);
  ASSERT_TRUE(db->execute(insert, {1}));
  auto again = db->execute(insert, {1});
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), StoreErrc::conflict)) << again.error().message;
  // Wrong parameter counts are still refused by the server.
  auto extra = db->query("SELECT x FROM t WHERE x = $1", {1, 2});
  ASSERT_FALSE(extra);
  EXPECT_TRUE(is(extra.error(), StoreErrc::invalid)) << extra.error().message;
  auto rows = db->query("SELECT x FROM t WHERE x = $1", {1});
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(rows->size(), 1u);
}

}  // namespace
