#include "store/pending_store.hpp"

#include <gtest/gtest.h>

#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::store::Backend;
using bh::store::PendingEntry;
using bh::store::PendingResolution;
using bh::store::PendingStore;
using bh::test::TestStore;

// Each test on a fresh store of each backend.
class PendingStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { ASSERT_TRUE(db.ok()) << db.message(); }
  std::unique_ptr<PendingStore> open() const {
    auto database = db.open();
    if (!database) return nullptr;
    auto store = PendingStore::open(database);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  TestStore db{GetParam()};
};

PendingEntry entry(std::string reference, std::string node = "gw1") {
  return {"fax", std::move(reference), std::move(node), "QID1", "+49301234@fax.example", 1000,
          2000};
}

TEST_P(PendingStoreTest, ReportAfterPendingIsFoundForItsNode) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add(entry("job-17")));
  EXPECT_FALSE(store->resolution("fax", "job-17").value().has_value());
  ASSERT_TRUE(store->resolve("fax", "job-17", {true, "2.0.0", "sent 3 pages", "hylafax"}, 1500));
  auto report = store->resolution("fax", "job-17").value();
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->delivered);
  EXPECT_EQ(report->diagnostic, "sent 3 pages");
  EXPECT_EQ(store->resolved_for("gw1").value().size(), 1u);
  EXPECT_TRUE(store->resolved_for("gw2").value().empty());
  ASSERT_TRUE(store->remove("fax", "job-17"));
  EXPECT_FALSE(store->find("fax", "job-17").value().has_value());
}

// A receipt can come before the delivery that caused it is recorded.
TEST_P(PendingStoreTest, EarlyReportIsKeptUntilThePendingEntryArrives) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->resolve("fax", "job-9", {false, "5.0.0", "busy", ""}, 900));
  EXPECT_TRUE(store->resolved_for("gw1").value().empty());  // no message known yet
  ASSERT_TRUE(store->add(entry("job-9")));
  auto report = store->resolution("fax", "job-9").value();
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->delivered);
  EXPECT_EQ(report->diagnostic, "busy");
  EXPECT_EQ(store->resolved_for("gw1").value().size(), 1u);
}

TEST_P(PendingStoreTest, ReferencesAreScopedByConnectorAndSurviveReopening) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->add(entry("42")));
    PendingEntry sms = entry("42");
    sms.connector = "sms";
    sms.queue_id = "QID2";
    ASSERT_TRUE(store->add(sms));
  }
  auto store = open();
  ASSERT_TRUE(store);
  auto fax = store->find("fax", "42").value();
  auto sms = store->find("sms", "42").value();
  ASSERT_TRUE(fax && sms);
  EXPECT_EQ(fax->queue_id, "QID1");
  EXPECT_EQ(sms->queue_id, "QID2");
  EXPECT_EQ(store->list().value().size(), 2u);
}

// A reference the foreign system uses again for a new delivery does not
// inherit the old report; reports nobody claimed are purged.
TEST_P(PendingStoreTest, ReusedReferenceStartsAfreshAndUnclaimedReportsArePurged) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add(entry("job-1")));
  ASSERT_TRUE(store->resolve("fax", "job-1", {true, "2.0.0", "old", ""}, 1500));
  PendingEntry again = entry("job-1");
  again.queue_id = "QID9";
  ASSERT_TRUE(store->add(again));
  EXPECT_FALSE(store->resolution("fax", "job-1").value().has_value());

  ASSERT_TRUE(store->resolve("fax", "never-pending", {false, "5.0.0", "x", ""}, 1000));
  ASSERT_TRUE(store->resolve("fax", "recent", {false, "5.0.0", "x", ""}, 5000));
  EXPECT_EQ(store->purge_unclaimed(2000).value(), 1u);
  EXPECT_FALSE(store->find("fax", "never-pending").value().has_value());
  EXPECT_TRUE(store->find("fax", "recent").value().has_value());
  EXPECT_TRUE(store->find("fax", "job-1").value().has_value());  // claimed: kept
}

INSTANTIATE_TEST_SUITE_P(Store, PendingStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
