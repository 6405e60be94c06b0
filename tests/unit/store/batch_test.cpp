#include "store/batch.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::Status;
using bh::store::Backend;
using bh::store::Connection;
using bh::store::Database;
using bh::store::RowBatch;
using bh::store::StoreErrc;
using bh::store::Value;
using bh::test::TestStore;

class StoreBatchTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store.ok()) << store.message();
    db = store.open();
    ASSERT_TRUE(db);
    auto made = db->execute("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, s TEXT)");
    ASSERT_TRUE(made) << made.error().message;
  }
  std::int64_t count(const std::string& sql) {
    auto rows = db->query(sql);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows && !rows->empty() ? rows->front().integer(0) : -1;
  }
  static std::string key(std::size_t i) { return "k" + std::to_string(i); }
  // Rows k0.., n = i, s = "v<i>".
  static RowBatch rows(std::size_t from, std::size_t to) {
    RowBatch batch(3);
    for (std::size_t i = from; i < to; ++i)
      batch.add({key(i), static_cast<std::int64_t>(i), "v" + std::to_string(i)});
    return batch;
  }

  TestStore store{GetParam()};
  std::shared_ptr<Database> db;
};

TEST_P(StoreBatchTest, EveryRowOfSeveralStatementsIsWritten) {
  const std::size_t per_statement = bh::store::rows_per_statement(3);
  ASSERT_EQ(per_statement, bh::store::kMaxBatchRows);
  const std::size_t total = 3 * per_statement + 7;  // three full statements and a short one
  RowBatch batch = rows(0, total);
  ASSERT_EQ(batch.rows(), total);
  std::int64_t written = -1;
  Status done = db->transaction([&](Connection& c) -> Status {
    auto inserted = bh::store::insert_rows(c, "INSERT INTO t (k, n, s)", batch);
    if (!inserted) return inserted.error();
    written = *inserted;
    return bh::ok_status();
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(written, static_cast<std::int64_t>(total));
  EXPECT_EQ(count("SELECT COUNT(*) FROM t"), static_cast<std::int64_t>(total));
  // Every value where it belongs: n matches the key's number, s too.
  EXPECT_EQ(count("SELECT COUNT(*) FROM t WHERE k = 'k' || CAST(n AS TEXT) AND s = 'v' || "
                  "CAST(n AS TEXT)"),
            static_cast<std::int64_t>(total));
  EXPECT_EQ(count("SELECT SUM(n) FROM t"), static_cast<std::int64_t>(total * (total - 1) / 2));

  // select_in over more keys than one statement takes, some unknown.
  std::vector<Value> keys;
  for (std::size_t i = 0; i < total + 5; i += 2) keys.emplace_back(key(i));
  Status read = db->transaction([&](Connection& c) -> Status {
    auto found = bh::store::select_in(c, "SELECT k, n FROM t WHERE k IN", keys);
    if (!found) return found.error();
    std::size_t expected = 0;
    for (std::size_t i = 0; i < total; i += 2) ++expected;
    EXPECT_EQ(found->size(), expected);
    for (const auto& row : *found)
      EXPECT_EQ(row.text(0), key(static_cast<std::size_t>(row.integer(1))));
    return bh::ok_status();
  });
  ASSERT_TRUE(read) << read.error().message;
}

TEST_P(StoreBatchTest, AConflictInTheLastStatementLeavesNothing) {
  const std::size_t total = 2 * bh::store::kMaxBatchRows + 3;
  RowBatch batch = rows(0, total);
  batch.add({key(1), std::int64_t{-1}, "again"});  // k1 twice, in the last statement
  Status failed = db->transaction([&](Connection& c) -> Status {
    auto inserted = bh::store::insert_rows(c, "INSERT INTO t (k, n, s)", batch);
    if (!inserted) return inserted.error();
    return bh::ok_status();
  });
  ASSERT_FALSE(failed);
  EXPECT_TRUE(is(failed.error(), StoreErrc::conflict)) << failed.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM t"), 0);
}

TEST_P(StoreBatchTest, TailClauseAppliesToEveryStatement) {
  ASSERT_TRUE(db->execute("INSERT INTO t (k, n, s) VALUES ('k5', 5, 'old')"));
  const std::size_t total = bh::store::kMaxBatchRows + 10;
  RowBatch batch = rows(0, total);
  std::int64_t written = -1;
  Status done = db->transaction([&](Connection& c) -> Status {
    auto inserted =
        bh::store::insert_rows(c, "INSERT INTO t (k, n, s)", batch, " ON CONFLICT (k) DO NOTHING");
    if (!inserted) return inserted.error();
    written = *inserted;
    return bh::ok_status();
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(written, static_cast<std::int64_t>(total - 1));
  auto old = db->query("SELECT s FROM t WHERE k = 'k5'");
  ASSERT_TRUE(old && old->size() == 1u);
  EXPECT_EQ(old->front().text(0), "old");
}

// A table wide enough that the parameter cap, not the row cap, bounds a
// statement: each statement binds close to kMaxStatementParameters values,
// which both backends take.
TEST_P(StoreBatchTest, StatementsStayUnderTheParameterCap) {
  // Enough columns that kMaxBatchRows rows would bind more than the cap.
  constexpr std::size_t kColumns =
      bh::store::kMaxStatementParameters / bh::store::kMaxBatchRows + 9;
  std::string create = "CREATE TABLE wide (c0 BIGINT PRIMARY KEY";
  std::string head = "INSERT INTO wide (c0";
  for (std::size_t i = 1; i < kColumns; ++i) {
    create += ", c" + std::to_string(i) + " BIGINT";
    head += ", c" + std::to_string(i);
  }
  ASSERT_TRUE(db->execute(create + ")"));
  head += ")";
  const std::size_t per_statement = bh::store::rows_per_statement(kColumns);
  EXPECT_EQ(per_statement, bh::store::kMaxStatementParameters / kColumns);
  EXPECT_LT(per_statement, bh::store::kMaxBatchRows);
  RowBatch batch(kColumns);
  const std::size_t total = per_statement + 1;  // one full statement and a short one
  for (std::size_t r = 0; r < total; ++r) {
    std::vector<Value> row;
    for (std::size_t i = 0; i < kColumns; ++i)
      row.emplace_back(static_cast<std::int64_t>(r * kColumns + i));
    batch.add(std::move(row));
  }
  Status done = db->transaction([&](Connection& c) -> Status {
    auto inserted = bh::store::insert_rows(c, head, batch);
    if (!inserted) return inserted.error();
    EXPECT_EQ(*inserted, static_cast<std::int64_t>(total));
    return bh::ok_status();
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM wide"), static_cast<std::int64_t>(total));
  // The last column of the last row: every placeholder got its own value.
  EXPECT_EQ(count("SELECT MAX(c" + std::to_string(kColumns - 1) + ") FROM wide"),
            static_cast<std::int64_t>(total * kColumns - 1));
}

TEST_P(StoreBatchTest, ARowOfAnotherWidthIsRefusedBeforeAnyStatement) {
  RowBatch batch = rows(0, 3);
  batch.add({key(9), std::int64_t{9}});  // two values for three columns
  Status failed = db->transaction([&](Connection& c) -> Status {
    auto inserted = bh::store::insert_rows(c, "INSERT INTO t (k, n, s)", batch);
    if (!inserted) return inserted.error();
    return bh::ok_status();
  });
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("another width"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM t"), 0);
}

TEST_P(StoreBatchTest, NoRowsAndNoKeysRunNoStatement) {
  Status done = db->transaction([&](Connection& c) -> Status {
    auto inserted = bh::store::insert_rows(c, "INSERT INTO t (k, n, s)", RowBatch(3));
    EXPECT_TRUE(inserted && *inserted == 0);
    auto found = bh::store::select_in(c, "SELECT k FROM t WHERE k IN", {});
    EXPECT_TRUE(found && found->empty());
    return bh::ok_status();
  });
  ASSERT_TRUE(done) << done.error().message;
}

INSTANTIATE_TEST_SUITE_P(Store, StoreBatchTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
