// GroupCommitDatabase (connectors/sms/sms_group_commit.hpp) on both
// backends: the SmsStore calls of a group share one transaction, a call
// that fails inside it fails alone, nothing of a group that fails is kept,
// and outside a group every call passes straight through.
#include "connectors/sms/sms_group_commit.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "connectors/sms/sms_store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::connectors::sms::GroupCommitDatabase;
using bh::connectors::sms::PartRecord;
using bh::connectors::sms::ReceiptRecord;
using bh::connectors::sms::ReceiptState;
using bh::connectors::sms::SmsStore;
using bh::store::Backend;
using bh::test::TestStore;

class SmsGroupCommitTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    shared = db.open();
    ASSERT_TRUE(shared);
    grouped = std::make_shared<GroupCommitDatabase>(shared);
    auto opened = SmsStore::open(grouped);
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
    auto view = SmsStore::open(shared);  // the same tables, not through the group
    ASSERT_TRUE(view) << view.error().message;
    direct = std::move(*view);
  }
  std::size_t parts(const std::string& reference) {
    auto rows = direct->parts_of("sms", reference);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? rows->size() : 0;
  }
  // Rows of a table, counted without the group.
  std::int64_t count(const std::string& table) {
    auto rows = shared->query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows && !rows->empty() ? rows->front().integer(0) : -1;
  }

  TestStore db{GetParam()};
  std::shared_ptr<bh::store::Database> shared;
  std::shared_ptr<GroupCommitDatabase> grouped;
  std::unique_ptr<SmsStore> store;
  std::unique_ptr<SmsStore> direct;
};

TEST_P(SmsGroupCommitTest, TheCallsOfOneGroupAreKeptTogether) {
  std::optional<std::string> reference;
  auto committed = grouped->group([&] {
    EXPECT_TRUE(store->add_part("sms", "ref-a", PartRecord{"id1", 1, 2}, 1000));
    EXPECT_TRUE(store->add_part("sms", "ref-a", PartRecord{"id2", 2, 2}, 1000));
    // A receipt in the same group finds the part written before it.
    auto found =
        store->add_receipt("sms", ReceiptRecord{"id1", ReceiptState::delivered, "", ""}, 1001);
    ASSERT_TRUE(found) << found.error().message;
    reference = *found;
  });
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_EQ(reference, std::optional<std::string>("ref-a"));
  EXPECT_EQ(parts("ref-a"), 2u);
  EXPECT_EQ(count("sms_receipts"), 1);
}

TEST_P(SmsGroupCommitTest, AFailingCallFailsAloneAndTheRestIsKept) {
  auto committed = grouped->group([&] {
    EXPECT_TRUE(store->add_part("sms", "ref-b", PartRecord{"id1", 1, 1}, 1000));
    // Refused (only final receipts are kept), then a statement the backend
    // refuses: the group goes on.
    auto refused =
        store->add_receipt("sms", ReceiptRecord{"id1", ReceiptState::enroute, "", ""}, 1001);
    EXPECT_FALSE(refused);
    auto bad = grouped->execute("INSERT INTO no_such_table VALUES (1)");
    EXPECT_FALSE(bad);
    EXPECT_TRUE(store->add_part("sms", "ref-b2", PartRecord{"id2", 1, 1}, 1000));
  });
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_EQ(parts("ref-b"), 1u);
  EXPECT_EQ(parts("ref-b2"), 1u);
}

TEST_P(SmsGroupCommitTest, NothingOfAFailedGroupIsKept) {
  auto committed = grouped->group([&] {
    EXPECT_TRUE(store->add_part("sms", "ref-c", PartRecord{"id1", 1, 1}, 1000));
    throw std::runtime_error("the round broke off");
  });
  EXPECT_FALSE(committed);
  EXPECT_EQ(parts("ref-c"), 0u);
  // The database works on after it, inside a group and outside.
  EXPECT_TRUE(store->add_part("sms", "ref-c", PartRecord{"id1", 1, 1}, 1000));
  EXPECT_EQ(parts("ref-c"), 1u);
}

TEST_P(SmsGroupCommitTest, OutsideAGroupEveryCallIsItsOwnTransaction) {
  ASSERT_TRUE(store->add_part("sms", "ref-d", PartRecord{"id1", 1, 1}, 1000));
  EXPECT_EQ(parts("ref-d"), 1u);
  ASSERT_TRUE(store->forget("sms", "ref-d"));
  EXPECT_EQ(parts("ref-d"), 0u);
  // A group does not nest.
  bh::Status inner = bh::ok_status();
  auto outer = grouped->group([&] { inner = grouped->group([] {}); });
  EXPECT_TRUE(outer);
  EXPECT_FALSE(inner);
}

INSTANTIATE_TEST_SUITE_P(Sms, SmsGroupCommitTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
