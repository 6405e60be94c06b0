// What only the SQLite backend does: its file and folder, the writer's
// lock shared with other processes, a transaction inside a transaction.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "store/database.hpp"
#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::Status;
using bh::store::Backend;
using bh::store::Connection;
using bh::store::StoreErrc;
using bh::test::TestStore;

// Two openers of a new file at once (the gateway and a CLI command, or a
// periodic sync): the one that does not switch the file to WAL waits for the
// other instead of failing with "database is locked".
TEST(StoreSqlite, TwoOpenersOfANewFileBothSucceed) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok()) << store.message();
  for (int round = 0; round < 20; ++round) {
    bh::store::StoreSettings settings = store.settings();
    settings.path = store.dir() + "/race-" + std::to_string(round) + ".db";
    auto open = [&] {
      auto db = bh::store::open_database(settings);
      return db ? std::string() : db.error().message;
    };
    auto first = std::async(std::launch::async, open);
    auto second = std::async(std::launch::async, open);
    EXPECT_EQ(first.get(), "") << "round " << round;
    EXPECT_EQ(second.get(), "") << "round " << round;
  }
}

TEST(StoreSqlite, MakesItsFolderAndKeepsDataAcrossOpeners) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok()) << store.message();
  bh::store::StoreSettings settings = store.settings();
  settings.path = store.dir() + "/var/lib/deeper/store.db";
  {
    auto db = bh::store::open_database(settings);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->execute("CREATE TABLE t (x TEXT)"));
    ASSERT_TRUE((*db)->execute("INSERT INTO t (x) VALUES ($1)", {"kept"}));
    EXPECT_EQ((*db)->describe(), "sqlite " + settings.path);
  }
  EXPECT_TRUE(std::filesystem::exists(settings.path));
  auto again = bh::store::open_database(settings);
  ASSERT_TRUE(again);
  auto rows = (*again)->query("SELECT x FROM t");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), "kept");
  auto mode = (*again)->query("PRAGMA journal_mode");
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->front().text(0), "wal");
}

TEST(StoreSqlite, AFileThatCannotBeOpenedIsUnavailable) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  bh::store::StoreSettings settings = store.settings();
  settings.path = store.dir();  // a folder
  auto db = bh::store::open_database(settings);
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), StoreErrc::unavailable)) << db.error().message;
  EXPECT_NE(db.error().message.find(store.dir()), std::string::npos);
}

// Another process holding the writer's lock longer than the timeout: the
// call fails with unavailable instead of waiting on.
TEST(StoreSqlite, AWriterLockHeldTooLongIsUnavailable) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  bh::store::StoreSettings settings = store.settings();
  settings.statement_timeout_seconds = 1;
  auto holder = bh::store::open_database(settings);
  auto waiter = bh::store::open_database(settings);
  ASSERT_TRUE(holder && waiter);
  ASSERT_TRUE((*holder)->execute("CREATE TABLE t (x BIGINT)"));

  std::promise<void> holding;
  std::promise<void> finish;
  std::thread owner([&] {
    Status held = (*holder)->transaction([&](Connection& c) -> Status {
      auto a = c.execute("INSERT INTO t (x) VALUES ($1)", {1});
      holding.set_value();
      finish.get_future().wait();
      if (!a) return a.error();
      return bh::ok_status();
    });
    EXPECT_TRUE(held) << held.error().message;
  });
  holding.get_future().wait();
  auto blocked = (*waiter)->execute("INSERT INTO t (x) VALUES ($1)", {2});
  finish.set_value();
  owner.join();
  ASSERT_FALSE(blocked);
  EXPECT_TRUE(is(blocked.error(), StoreErrc::unavailable)) << blocked.error().message;
  auto rows = (*waiter)->query("SELECT x FROM t");  // the lock is free again
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().integer(0), 1);
}

// One connection: a transaction opened inside another would wait for
// itself; it is refused instead.
TEST(StoreSqlite, ATransactionInsideATransactionIsRefused) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  auto db = store.open();
  ASSERT_TRUE(db);
  bool inner_failed = false;
  Status outer = db->transaction([&](Connection&) -> Status {
    auto inner = db->query("SELECT 1");
    inner_failed = !inner.ok();
    return bh::ok_status();
  });
  EXPECT_TRUE(outer);
  EXPECT_TRUE(inner_failed);
}

TEST(StoreSqlite, NamelessOrZeroPlaceholdersAreRefused) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  auto db = store.open();
  ASSERT_TRUE(db);
  for (const char* sql : {"SELECT ?", "SELECT :name", "SELECT $0", "SELECT $x"}) {
    auto rows = db->query(sql, {1});
    ASSERT_FALSE(rows) << sql;
    EXPECT_TRUE(is(rows.error(), StoreErrc::invalid)) << sql << ": " << rows.error().message;
  }
}

// SQLite gets $N as ?N (bound by number, not looked up by name): text in
// quotes and comments is not a placeholder, and every $N counts once.
TEST(StoreSqlite, OnlyPlaceholdersOutsideQuotesAndCommentsAreBound) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  auto db = store.open();
  ASSERT_TRUE(db);
  auto rows = db->query(
      "SELECT '$1 and ? and ''$2''', $2 || $1, \"x$1\" /* $3 ? */ -- $4 ?\n"
      "FROM (SELECT 'column' AS \"x$1\")",
      {"b", "a"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), "$1 and ? and '$2'");
  EXPECT_EQ(rows->front().text(1), "ab");
  EXPECT_EQ(rows->front().text(2), "column");
  for (const char* sql : {"SELECT $1abc", "SELECT $01", "SELECT $1, ?"}) {
    auto refused = db->query(sql, {1});
    ASSERT_FALSE(refused) << sql;
    EXPECT_TRUE(is(refused.error(), StoreErrc::invalid)) << sql << ": " << refused.error().message;
    EXPECT_NE(refused.error().message.find("is not $1..$n"), std::string::npos)
        << refused.error().message;
  }
  // $2 without $1: the first value is given but not used.
  auto gap = db->query("SELECT $2", {1, 2});
  ASSERT_FALSE(gap);
  EXPECT_NE(gap.error().message.find("$1 is not used"), std::string::npos) << gap.error().message;
}

TEST(StoreSqlite, ForeignKeysAreEnforced) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  auto db = store.open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute("CREATE TABLE p (id BIGINT PRIMARY KEY)"));
  ASSERT_TRUE(db->execute("CREATE TABLE c (p BIGINT REFERENCES p (id))"));
  auto orphan = db->execute("INSERT INTO c (p) VALUES ($1)", {5});
  ASSERT_FALSE(orphan);
  EXPECT_TRUE(is(orphan.error(), StoreErrc::invalid)) << orphan.error().message;
}

}  // namespace
