// What only the SQLite backend does: its file and folder, the writer's
// lock shared with other processes and threads, the bounded waits for the
// writer and for a read connection, a transaction inside a transaction.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/sqlite_database.hpp"
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

// Another thread of this process holding the writer longer than the
// timeout: a write (and a query that writes) fails with unavailable
// instead of waiting on, while a read still answers. The holder keeps its
// transaction open until the waiter has its answer (bounded, so a waiter
// that never returned fails the test).
TEST(StoreSqlite, TheWaitForTheWriterIsBoundedByTheStatementTimeout) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  bh::store::StoreSettings settings = store.settings();
  settings.statement_timeout_seconds = 1;
  auto opened = bh::store::open_database(settings);
  ASSERT_TRUE(opened) << opened.error().message;
  auto db = *opened;
  ASSERT_TRUE(db->execute("CREATE TABLE t (x BIGINT)"));

  std::promise<void> holding;
  std::promise<void> finish;
  bool waiter_answered = false;
  std::thread owner([&] {
    Status held = db->transaction([&](Connection& c) -> Status {
      auto a = c.execute("INSERT INTO t (x) VALUES ($1)", {1});
      holding.set_value();
      waiter_answered =
          finish.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready;
      if (!a) return a.error();
      return bh::ok_status();
    });
    EXPECT_TRUE(held) << held.error().message;
  });
  ASSERT_EQ(holding.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto blocked = db->execute("INSERT INTO t (x) VALUES ($1)", {2});
  auto returning = db->query("INSERT INTO t (x) VALUES ($1) RETURNING x", {3});
  auto read = db->query("SELECT COUNT(*) FROM t");
  finish.set_value();
  owner.join();
  EXPECT_TRUE(waiter_answered);
  ASSERT_FALSE(blocked);
  EXPECT_TRUE(is(blocked.error(), StoreErrc::unavailable)) << blocked.error().message;
  EXPECT_NE(blocked.error().message.find("the writer is busy"), std::string::npos)
      << blocked.error().message;
  ASSERT_FALSE(returning);
  EXPECT_TRUE(is(returning.error(), StoreErrc::unavailable)) << returning.error().message;
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().integer(0), 0);
  auto rows = db->query("SELECT x FROM t");  // the writer is free again
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().integer(0), 1);
}

// Every read connection held (read transactions kept open on other
// threads): one more read waits at most statement_timeout, then fails as
// unavailable; a write does not need a reader and goes on.
TEST(StoreSqlite, TheWaitForAFreeReaderIsBounded) {
  TestStore store(Backend::sqlite);
  ASSERT_TRUE(store.ok());
  bh::store::StoreSettings settings = store.settings();
  settings.statement_timeout_seconds = 1;
  auto opened = bh::store::open_database(settings);
  ASSERT_TRUE(opened) << opened.error().message;
  auto db = *opened;
  ASSERT_TRUE(db->execute("CREATE TABLE t (x BIGINT)"));

  std::promise<void> finish;
  std::shared_future<void> finished = finish.get_future().share();
  std::vector<std::promise<void>> holding(bh::store::kSqliteReadConnections);
  std::vector<std::thread> readers;
  for (auto& held : holding)
    readers.emplace_back([&db, &held, finished] {
      Status read = db->read_transaction([&](Connection& c) -> Status {
        auto rows = c.query("SELECT COUNT(*) FROM t");
        held.set_value();
        (void)finished.wait_for(std::chrono::seconds(20));
        if (!rows) return rows.error();
        return bh::ok_status();
      });
      EXPECT_TRUE(read) << read.error().message;
    });
  for (auto& held : holding)
    ASSERT_EQ(held.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto refused = db->query("SELECT x FROM t");
  auto written = db->execute("INSERT INTO t (x) VALUES ($1)", {1});
  finish.set_value();
  for (auto& reader : readers) reader.join();
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), StoreErrc::unavailable)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("read connections are busy"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(written) << written.error().message;
  auto rows = db->query("SELECT x FROM t");  // the readers are back
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(rows->size(), 1u);
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
