#include "store/database.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::Error;
using bh::Status;
using bh::store::Backend;
using bh::store::Connection;
using bh::store::Database;
using bh::store::Migration;
using bh::store::Params;
using bh::store::StoreErrc;
using bh::test::TestStore;

// Each test on a fresh store of each backend.
class StoreDatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store.ok()) << store.message();
    db = store.open();
    ASSERT_TRUE(db);
  }
  void make_table() {
    auto made = db->execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT, s TEXT)");
    ASSERT_TRUE(made) << made.error().message;
  }
  std::int64_t count(const std::string& table) {
    auto rows = db->query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows && !rows->empty() ? rows->front().integer(0) : -1;
  }

  TestStore store{GetParam()};
  std::shared_ptr<Database> db;
};

TEST_P(StoreDatabaseTest, ValuesRoundTrip) {
  make_table();
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  const std::int64_t small = std::numeric_limits<std::int64_t>::min();
  const std::string utf8 = "Grüße, 東京, \xF0\x9F\x93\xA0 'quoted' \"and\" \\ back";
  ASSERT_TRUE(db->execute("INSERT INTO t (id, n, s) VALUES ($1, $2, $3)", {1, big, utf8}));
  ASSERT_TRUE(db->execute("INSERT INTO t (id, n, s) VALUES ($1, $2, $3)", {2, small, ""}));
  ASSERT_TRUE(db->execute("INSERT INTO t (id, n, s) VALUES ($1, $2, $3)",
                          {3, std::monostate{}, std::monostate{}}));
  auto rows = db->query("SELECT id, n, s FROM t ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  const auto& r = *rows;
  EXPECT_EQ(r[0].columns[0], bh::store::Value{std::int64_t{1}});  // integers come as integers
  EXPECT_EQ(r[0].integer(1), big);
  EXPECT_EQ(r[0].text(1), std::to_string(big));
  EXPECT_EQ(r[0].text(2), utf8);
  EXPECT_EQ(r[1].integer(1), small);
  EXPECT_FALSE(r[1].null(2));
  EXPECT_EQ(r[1].text(2), "");
  EXPECT_TRUE(r[2].null(1));
  EXPECT_TRUE(r[2].null(2));
  EXPECT_EQ(r[2].integer(1), 0);
  EXPECT_EQ(r[2].text(2), "");
}

// SQLite keeps embedded NUL bytes; PostgreSQL's text cannot hold them, and
// the call says so instead of cutting the value short.
TEST_P(StoreDatabaseTest, TextWithNulBytesRoundTripsOrIsRefused) {
  make_table();
  const std::string with_nul("a\0b", 3);
  auto inserted = db->execute("INSERT INTO t (id, s) VALUES ($1, $2)", {1, with_nul});
  if (GetParam() == Backend::sqlite) {
    ASSERT_TRUE(inserted) << inserted.error().message;
    auto rows = db->query("SELECT s FROM t WHERE s = $1", {with_nul});
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->front().text(0), with_nul);
  } else {
    ASSERT_FALSE(inserted);
    EXPECT_TRUE(is(inserted.error(), StoreErrc::invalid)) << inserted.error().message;
    EXPECT_EQ(count("t"), 0);
  }
}

TEST_P(StoreDatabaseTest, PlaceholdersMayComeOutOfOrderAndRepeat) {
  make_table();
  ASSERT_TRUE(db->execute("INSERT INTO t (s, id, n) VALUES ($2, $1, $1)", {7, "seven"}));
  auto rows = db->query("SELECT s, n FROM t WHERE id = $2 AND n = $2 AND s = $1", {"seven", 7});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), "seven");
  EXPECT_EQ(rows->front().integer(1), 7);
}

TEST_P(StoreDatabaseTest, MissingOrUnusedParametersAreRefused) {
  make_table();
  auto missing = db->execute("INSERT INTO t (id, s) VALUES ($1, $2)", {1});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(is(missing.error(), StoreErrc::invalid)) << missing.error().message;
  auto unused = db->execute("INSERT INTO t (id) VALUES ($1)", {1, "extra"});
  ASSERT_FALSE(unused);
  EXPECT_TRUE(is(unused.error(), StoreErrc::invalid)) << unused.error().message;
  EXPECT_EQ(count("t"), 0);
  ASSERT_TRUE(db->execute("INSERT INTO t (id) VALUES ($1)", {1}));  // the store still works
}

TEST_P(StoreDatabaseTest, ExecuteReturnsTheRowsChanged) {
  make_table();
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(db->execute("INSERT INTO t (id, n) VALUES ($1, $2)", {i, i % 2}));
  auto changed = db->execute("UPDATE t SET s = $1 WHERE n = $2", {"odd", 1});
  ASSERT_TRUE(changed);
  EXPECT_EQ(*changed, 2);
  auto deleted = db->execute("DELETE FROM t WHERE id > $1", {100});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 0);
}

TEST_P(StoreDatabaseTest, TransactionCommitsWhenItsFunctionSucceeds) {
  make_table();
  Status done = db->transaction([](Connection& c) -> Status {
    if (auto a = c.execute("INSERT INTO t (id) VALUES ($1)", {1}); !a) return a.error();
    auto rows = c.query("SELECT COUNT(*) FROM t");  // sees its own row
    if (!rows) return rows.error();
    if (rows->front().integer(0) != 1) return Error{"own row not visible"};
    if (auto b = c.execute("INSERT INTO t (id) VALUES ($1)", {2}); !b) return b.error();
    return bh::ok_status();
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(count("t"), 2);
}

TEST_P(StoreDatabaseTest, TransactionRollsBackWhenItsFunctionFails) {
  make_table();
  Status failed = db->transaction([](Connection& c) -> Status {
    if (auto a = c.execute("INSERT INTO t (id) VALUES ($1)", {1}); !a) return a.error();
    return bh::store::store_error(StoreErrc::invalid, "the caller changed its mind");
  });
  ASSERT_FALSE(failed);
  EXPECT_TRUE(is(failed.error(), StoreErrc::invalid));
  EXPECT_EQ(failed.error().message, "the caller changed its mind");
  EXPECT_EQ(count("t"), 0);
}

TEST_P(StoreDatabaseTest, TransactionRollsBackWhenItsFunctionThrows) {
  make_table();
  Status failed = db->transaction([](Connection& c) -> Status {
    if (auto a = c.execute("INSERT INTO t (id) VALUES ($1)", {1}); !a) return a.error();
    throw std::runtime_error("boom in the middle");
  });
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("boom in the middle"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(count("t"), 0);
  ASSERT_TRUE(db->execute("INSERT INTO t (id) VALUES ($1)", {1}));  // usable afterwards
}

TEST_P(StoreDatabaseTest, DuplicateKeyIsAConflict) {
  make_table();
  ASSERT_TRUE(db->execute("INSERT INTO t (id, s) VALUES ($1, $2)", {1, "first"}));
  auto again = db->execute("INSERT INTO t (id, s) VALUES ($1, $2)", {1, "second"});
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), StoreErrc::conflict)) << again.error().message;
  // Inside a transaction: the conflict comes back and nothing of it stays.
  Status failed = db->transaction([](Connection& c) -> Status {
    if (auto a = c.execute("INSERT INTO t (id) VALUES ($1)", {2}); !a) return a.error();
    auto b = c.execute("INSERT INTO t (id) VALUES ($1)", {1});
    if (!b) return b.error();
    return bh::ok_status();
  });
  ASSERT_FALSE(failed);
  EXPECT_TRUE(is(failed.error(), StoreErrc::conflict)) << failed.error().message;
  EXPECT_EQ(count("t"), 1);
  auto rows = db->query("SELECT s FROM t WHERE id = $1", {1});
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->front().text(0), "first");
}

TEST_P(StoreDatabaseTest, ABadStatementIsAnErrorAndTheStoreGoesOn) {
  auto bad = db->query("SELEKT 1");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(bad.error().message.empty());
  auto good = db->query("SELECT 1");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->front().integer(0), 1);
}

const std::vector<Migration> kThreeSteps = {
    {1, "CREATE TABLE a (id BIGINT PRIMARY KEY, note TEXT NOT NULL DEFAULT '')", {}},
    // Not repeatable: applied twice, the insert would be a conflict.
    {2, "INSERT INTO a (id) VALUES (1); CREATE TABLE b (x TEXT)", {}},
    {3, "ALTER TABLE b ADD COLUMN y BIGINT; INSERT INTO a (id, note) VALUES (2, 'three')",
     "ALTER TABLE b ADD COLUMN y BIGINT NOT NULL DEFAULT 0; "
     "INSERT INTO a (id, note) VALUES (2, 'three')"},
};

std::vector<Migration> first(std::size_t n) {
  return {kThreeSteps.begin(), kThreeSteps.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST_P(StoreDatabaseTest, MigrationsAreAppliedOnceAndInOrder) {
  Status two = db->migrate("demo", first(2));
  ASSERT_TRUE(two) << two.error().message;
  ASSERT_TRUE(db->migrate("demo", first(2)));  // again: nothing to do
  EXPECT_EQ(count("a"), 1);
  Status three = db->migrate("demo", kThreeSteps);
  ASSERT_TRUE(three) << three.error().message;
  EXPECT_EQ(count("a"), 2);
  ASSERT_TRUE(db->execute("INSERT INTO b (x, y) VALUES ($1, $2)", {"x", 1}));
  auto recorded = db->query(
      "SELECT version FROM bh_schema_migrations WHERE component = $1 ORDER BY version", {"demo"});
  ASSERT_TRUE(recorded);
  ASSERT_EQ(recorded->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ((*recorded)[i].integer(0), int(i) + 1);

  // Components are versioned apart.
  ASSERT_TRUE(db->migrate("other", {{1, "CREATE TABLE c (x TEXT)", {}}}));
  EXPECT_EQ(count("c"), 0);
  ASSERT_TRUE(db->migrate("demo", kThreeSteps));
  EXPECT_EQ(count("a"), 2);
}

TEST_P(StoreDatabaseTest, AStoreANewerReleaseMigratedIsRefused) {
  ASSERT_TRUE(db->migrate("demo", kThreeSteps));
  Status older = db->migrate("demo", first(2));
  ASSERT_FALSE(older);
  EXPECT_TRUE(is(older.error(), StoreErrc::invalid));
  EXPECT_NE(older.error().message.find("newer"), std::string::npos) << older.error().message;
}

TEST_P(StoreDatabaseTest, MigrationsOutOfOrderAreRefused) {
  Status gap = db->migrate("demo", {{1, "CREATE TABLE a (x TEXT)", {}}, {3, "SELECT 1", {}}});
  ASSERT_FALSE(gap);
  EXPECT_TRUE(is(gap.error(), StoreErrc::invalid));
  auto tables = db->query("SELECT COUNT(*) FROM bh_schema_migrations");
  EXPECT_FALSE(tables.ok() && tables->front().integer(0) != 0);  // nothing recorded
}

TEST_P(StoreDatabaseTest, AFailedMigrationChangesNothing) {
  ASSERT_TRUE(db->migrate("demo", first(1)));
  std::vector<Migration> broken = first(1);
  broken.push_back({2, "CREATE TABLE d (x TEXT); INSERT INTO nowhere VALUES (1)", {}});
  Status failed = db->migrate("demo", broken);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("migration 2"), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(db->query("SELECT COUNT(*) FROM d"));  // rolled back with its step
  ASSERT_TRUE(db->migrate("demo", kThreeSteps));      // the fixed release goes on from 1
  EXPECT_EQ(count("a"), 2);
}

// Nodes (or a CLI command next to the gateway) that start at once: each
// step is applied by exactly one of them.
TEST_P(StoreDatabaseTest, OpenersMigratingAtOnceApplyEachStepOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::shared_ptr<Database>> openers;
  for (int i = 0; i < kOpeners; ++i) openers.push_back(store.open());
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i)
    threads.emplace_back([&, i] {
      Status done = openers[static_cast<std::size_t>(i)]->migrate("demo", kThreeSteps);
      if (!done) {
        ++failures;
        errors[static_cast<std::size_t>(i)] = done.error().message;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << errors[0] << errors[1] << errors[2] << errors[3];
  EXPECT_EQ(count("a"), 2);
  auto recorded =
      db->query("SELECT COUNT(*) FROM bh_schema_migrations WHERE component = $1", {"demo"});
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->front().integer(0), 3);
}

TEST_P(StoreDatabaseTest, ConcurrentTransactionsFromManyThreads) {
  make_table();
  constexpr int kThreads = 8;  // more than the pool's 4 connections
  constexpr int kEach = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status done = db->transaction([&](Connection& c) -> Status {
          auto a = c.execute("INSERT INTO t (id, n) VALUES ($1, $2)", {t * 1000 + i, t});
          if (!a) return a.error();
          return bh::ok_status();
        });
        if (!done) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count("t"), kThreads * kEach);
}

// A long write transaction on one thread (a directory push) does not hold
// up a read on another: the writer keeps its transaction open until the
// reader has answered. A reader that waited for it would make the writer's
// bounded wait run out, which fails the test instead of hanging it.
TEST_P(StoreDatabaseTest, AReadAnswersWhileAnotherThreadHoldsAWriteTransaction) {
  make_table();
  ASSERT_TRUE(db->execute("INSERT INTO t (id, n) VALUES ($1, $2)", {1, 10}));
  std::promise<void> holding;
  std::promise<void> answered;
  bool reader_answered_first = false;
  std::int64_t seen_inside = -1;
  std::thread writer([&] {
    Status held = db->transaction([&](Connection& c) -> Status {
      auto added = c.execute("INSERT INTO t (id, n) VALUES ($1, $2)", {2, 20});
      if (!added) return added.error();
      // A read inside the transaction sees its own write.
      auto inside = c.query("SELECT COUNT(*) FROM t");
      if (!inside) return inside.error();
      seen_inside = inside->front().integer(0);
      holding.set_value();
      reader_answered_first =
          answered.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready;
      return bh::ok_status();
    });
    EXPECT_TRUE(held) << held.error().message;
  });
  ASSERT_EQ(holding.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto rows = db->query("SELECT id FROM t ORDER BY id");
  std::vector<std::int64_t> read_ids;
  Status read = db->read_transaction([&](Connection& c) -> Status {
    auto ids = c.query("SELECT id FROM t ORDER BY id");
    if (!ids) return ids.error();
    for (const auto& row : *ids) read_ids.push_back(row.integer(0));
    return bh::ok_status();
  });
  answered.set_value();
  writer.join();
  EXPECT_TRUE(reader_answered_first) << "the read waited for the write transaction";
  EXPECT_EQ(seen_inside, 2);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);  // what was committed before: not the open transaction's row
  EXPECT_EQ(rows->front().integer(0), 1);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read_ids, std::vector<std::int64_t>{1});
  // A read after the commit sees the commit.
  auto after = db->query("SELECT id FROM t ORDER BY id");
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[1].integer(0), 2);
}

// query() of a statement that writes (... RETURNING) is committed, and seen
// by the reads after it.
TEST_P(StoreDatabaseTest, AQueryThatWritesIsCommitted) {
  make_table();
  auto returned = db->query("INSERT INTO t (id, n) VALUES ($1, $2) RETURNING n", {7, 70});
  ASSERT_TRUE(returned) << returned.error().message;
  ASSERT_EQ(returned->size(), 1u);
  EXPECT_EQ(returned->front().integer(0), 70);
  EXPECT_EQ(count("t"), 1);
}

// A read transaction is for reads: a write in it fails and leaves nothing.
TEST_P(StoreDatabaseTest, AWriteInAReadTransactionChangesNothing) {
  make_table();
  Status wrote = db->read_transaction([&](Connection& c) -> Status {
    auto added = c.execute("INSERT INTO t (id, n) VALUES ($1, $2)", {1, 1});
    if (!added) return added.error();
    return bh::ok_status();
  });
  ASSERT_FALSE(wrote);
  // A bug of the caller, not an outage to try again later (451, 503).
  EXPECT_FALSE(bh::store::is(wrote.error(), StoreErrc::unavailable)) << wrote.error().message;
  EXPECT_EQ(count("t"), 0);
}

TEST_P(StoreDatabaseTest, DescribeNamesTheBackend) {
  EXPECT_EQ(db->backend(), GetParam());
  EXPECT_EQ(db->describe().rfind(std::string(bh::store::backend_name(GetParam())) + " ", 0), 0u)
      << db->describe();
}

INSTANTIATE_TEST_SUITE_P(Store, StoreDatabaseTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

TEST(StoreOpen, UnknownBackendIsRefused) {
  bh::store::StoreSettings settings;
  settings.backend = "mysql";
  auto db = bh::store::open_database(settings);
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), StoreErrc::invalid));
}

}  // namespace
