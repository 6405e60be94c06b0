#include "store/pending_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace {

using bh::store::PendingEntry;
using bh::store::PendingResolution;
using bh::store::PendingStore;

struct TempDb {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("bh-pending-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDb() { std::filesystem::create_directories(dir); }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "store.db").string(); }
};

PendingEntry entry(std::string reference, std::string node = "gw1") {
  return {"fax", std::move(reference), std::move(node), "QID1", "+49301234@fax.example", 1000,
          2000};
}

TEST(PendingStore, ReportAfterPendingIsFoundForItsNode) {
  TempDb db;
  auto store = PendingStore::open(db.path());
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->add(entry("job-17")));
  EXPECT_FALSE((*store)->resolution("fax", "job-17").value().has_value());
  ASSERT_TRUE((*store)->resolve("fax", "job-17", {true, "2.0.0", "sent 3 pages", "hylafax"}, 1500));
  auto report = (*store)->resolution("fax", "job-17").value();
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->delivered);
  EXPECT_EQ(report->diagnostic, "sent 3 pages");
  EXPECT_EQ((*store)->resolved_for("gw1").value().size(), 1u);
  EXPECT_TRUE((*store)->resolved_for("gw2").value().empty());
  ASSERT_TRUE((*store)->remove("fax", "job-17"));
  EXPECT_FALSE((*store)->find("fax", "job-17").value().has_value());
}

// A receipt can come before the delivery that caused it is recorded.
TEST(PendingStore, EarlyReportIsKeptUntilThePendingEntryArrives) {
  TempDb db;
  auto store = PendingStore::open(db.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->resolve("fax", "job-9", {false, "5.0.0", "busy", ""}, 900));
  EXPECT_TRUE((*store)->resolved_for("gw1").value().empty());  // no message known yet
  ASSERT_TRUE((*store)->add(entry("job-9")));
  auto report = (*store)->resolution("fax", "job-9").value();
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->delivered);
  EXPECT_EQ(report->diagnostic, "busy");
  EXPECT_EQ((*store)->resolved_for("gw1").value().size(), 1u);
}

TEST(PendingStore, ReferencesAreScopedByConnectorAndSurviveReopening) {
  TempDb db;
  {
    auto store = PendingStore::open(db.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->add(entry("42")));
    PendingEntry sms = entry("42");
    sms.connector = "sms";
    sms.queue_id = "QID2";
    ASSERT_TRUE((*store)->add(sms));
  }
  auto store = PendingStore::open(db.path());
  ASSERT_TRUE(store);
  auto fax = (*store)->find("fax", "42").value();
  auto sms = (*store)->find("sms", "42").value();
  ASSERT_TRUE(fax && sms);
  EXPECT_EQ(fax->queue_id, "QID1");
  EXPECT_EQ(sms->queue_id, "QID2");
  EXPECT_EQ((*store)->list().value().size(), 2u);
}

// A reference the foreign system uses again for a new delivery does not
// inherit the old report; reports nobody claimed are purged.
TEST(PendingStore, ReusedReferenceStartsAfreshAndUnclaimedReportsArePurged) {
  TempDb db;
  auto store = PendingStore::open(db.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->add(entry("job-1")));
  ASSERT_TRUE((*store)->resolve("fax", "job-1", {true, "2.0.0", "old", ""}, 1500));
  PendingEntry again = entry("job-1");
  again.queue_id = "QID9";
  ASSERT_TRUE((*store)->add(again));
  EXPECT_FALSE((*store)->resolution("fax", "job-1").value().has_value());

  ASSERT_TRUE((*store)->resolve("fax", "never-pending", {false, "5.0.0", "x", ""}, 1000));
  ASSERT_TRUE((*store)->resolve("fax", "recent", {false, "5.0.0", "x", ""}, 5000));
  EXPECT_EQ((*store)->purge_unclaimed(2000).value(), 1u);
  EXPECT_FALSE((*store)->find("fax", "never-pending").value().has_value());
  EXPECT_TRUE((*store)->find("fax", "recent").value().has_value());
  EXPECT_TRUE((*store)->find("fax", "job-1").value().has_value());  // claimed: kept
}

}  // namespace
