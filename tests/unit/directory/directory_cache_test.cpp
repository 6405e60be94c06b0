#include "directory/directory_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::directory::DirectoryCache;
using bh::directory::DirectorySettings;
using bh::directory::DirectoryStore;
using bh::directory::LookupState;
using bh::directory::TenantDirectory;
using bh::directory::User;
using bh::store::Backend;
using bh::test::TestStore;
using Clock = std::chrono::steady_clock;

constexpr const char* kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";

// The real store, or an unreachable one while `down` is set.
class SwitchableDatabase final : public bh::store::Database {
 public:
  explicit SwitchableDatabase(std::shared_ptr<bh::store::Database> inner)
      : inner_(std::move(inner)) {}
  bh::store::Backend backend() const override { return inner_->backend(); }
  std::string describe() const override { return inner_->describe(); }
  bh::Status transaction(const std::function<bh::Status(bh::store::Connection&)>& fn) override {
    if (down)
      return bh::store::store_error(bh::store::StoreErrc::unavailable, "connection refused");
    return inner_->transaction(fn);
  }
  std::atomic<bool> down{false};

 private:
  std::shared_ptr<bh::store::Database> inner_;
};

TenantDirectory contoso() {
  TenantDirectory d;
  d.tenant = {kT1, "Contoso", {"contoso.test"}};
  User alice;
  alice.address = "alice@contoso.test";
  alice.aliases = {"a@contoso.test"};
  alice.permissions = {"fax"};
  alice.fax_numbers = {"+49301234567"};
  alice.mobile_numbers = {"+4915123456789", "+49301234567"};
  User shared;
  shared.address = "shared@contoso.test";
  shared.aliases = {"front@contoso.test"};
  d.users = {alice, shared};
  d.numbers = {{"+49307654321", "", "front@contoso.test", "fax", "front desk"}};
  return d;
}

class DirectoryCacheTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    auto inner = db.open();
    ASSERT_TRUE(inner);
    database = std::make_shared<SwitchableDatabase>(inner);
    auto opened = DirectoryStore::open(database);
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
    auto writer_opened = DirectoryStore::open(db.open());  // another node, or the CLI
    ASSERT_TRUE(writer_opened) << writer_opened.error().message;
    writer = std::move(*writer_opened);
  }
  std::unique_ptr<DirectoryCache> cache(DirectorySettings settings = {}) {
    return std::make_unique<DirectoryCache>(store, settings, [this] { return now; });
  }
  TestStore db{GetParam()};
  std::shared_ptr<SwitchableDatabase> database;
  std::shared_ptr<DirectoryStore> store;
  std::unique_ptr<DirectoryStore> writer;
  Clock::time_point now = Clock::time_point() + std::chrono::hours(1);
};

TEST_P(DirectoryCacheTest, LooksUpUsersNumbersAndTenantsFromMemory) {
  ASSERT_TRUE(writer->replace_tenant_directory(contoso()));
  auto c = cache();
  EXPECT_EQ(c->find_user("alice@contoso.test").state, LookupState::unavailable);  // not loaded
  ASSERT_TRUE(c->refresh());
  auto alice = c->find_user("A@CONTOSO.test");
  ASSERT_TRUE(alice.is_found());
  EXPECT_EQ(alice->address, "alice@contoso.test");
  EXPECT_TRUE(alice->may("fax"));
  EXPECT_EQ(c->find_user("nobody@contoso.test").state, LookupState::absent);

  auto fax = c->find_number("+49301234567");  // alice's fax and mobile number
  ASSERT_TRUE(fax.is_found());
  EXPECT_EQ(fax->mailbox, "alice@contoso.test");
  EXPECT_EQ(fax->tenant, kT1);
  EXPECT_EQ(fax->service, "");
  EXPECT_FALSE(fax->service_number);
  auto mobile = c->find_number("+4915123456789");
  ASSERT_TRUE(mobile.is_found());
  EXPECT_EQ(mobile->service, "sms");
  auto line = c->find_number("+49307654321");  // a service number, its mailbox by alias
  ASSERT_TRUE(line.is_found());
  EXPECT_EQ(line->mailbox, "shared@contoso.test");
  EXPECT_EQ(line->service, "fax");
  EXPECT_TRUE(line->service_number);
  EXPECT_EQ(c->find_number("+49300000000").state, LookupState::absent);

  auto tenant = c->tenant("4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B");
  ASSERT_TRUE(tenant.is_found());
  EXPECT_EQ(tenant->domains, (std::vector<std::string>{"contoso.test"}));
}

// Review F1: a service number of another tenant never overrides a user's
// number in the cache, even one written before the store refused it (the
// row is written directly here, as such old data would be).
TEST_P(DirectoryCacheTest, ServiceNumberOfAnotherTenantNeverOverridesAUsersNumber) {
  constexpr const char* kT2 = "11111111-2222-3333-4444-555555555555";
  ASSERT_TRUE(writer->replace_tenant_directory(contoso()));
  ASSERT_TRUE(writer->put_tenant({kT2, "Fabrikam", {"fabrikam.test"}}));
  ASSERT_TRUE(writer->database().transaction([&](bh::store::Connection& c) -> bh::Status {
    auto done = c.execute(
        "INSERT INTO directory_numbers (number, tenant, mailbox, service, description) VALUES "
        "('+4915123456789', $1, 'eve@fabrikam.test', 'sms', '')",
        {std::string(kT2)});
    if (!done) return done.error();
    // A version change, so the cache reloads.
    auto bumped = c.execute("UPDATE directory_version SET version = version + 1 WHERE id = 1");
    if (!bumped) return bumped.error();
    return bh::ok_status();
  }));
  auto c = cache();
  ASSERT_TRUE(c->refresh());
  auto mobile = c->find_number("+4915123456789");
  ASSERT_TRUE(mobile.is_found());
  EXPECT_EQ(mobile->mailbox, "alice@contoso.test");
  EXPECT_EQ(mobile->tenant, kT1);
  EXPECT_FALSE(mobile->service_number);
}

TEST_P(DirectoryCacheTest, RefreshFollowsTheStoresVersion) {
  auto c = cache();
  ASSERT_TRUE(c->refresh());
  EXPECT_EQ(c->find_user("alice@contoso.test").state, LookupState::absent);
  std::int64_t before = c->version();
  ASSERT_TRUE(writer->replace_tenant_directory(contoso()));
  // The snapshot stays as it was until a refresh.
  EXPECT_EQ(c->find_user("alice@contoso.test").state, LookupState::absent);
  ASSERT_TRUE(c->refresh());
  EXPECT_GT(c->version(), before);
  EXPECT_TRUE(c->find_user("alice@contoso.test").is_found());
  ASSERT_TRUE(writer->remove_tenant(kT1));
  ASSERT_TRUE(c->refresh());
  EXPECT_EQ(c->find_user("alice@contoso.test").state, LookupState::absent);
  EXPECT_EQ(c->tenant(kT1).state, LookupState::absent);
}

TEST_P(DirectoryCacheTest, StaleOrNeverLoadedIsUnavailable) {
  ASSERT_TRUE(writer->replace_tenant_directory(contoso()));
  DirectorySettings settings;
  settings.max_stale_seconds = 30;
  auto c = cache(settings);
  database->down = true;
  EXPECT_FALSE(c->refresh());
  auto never = c->find_user("alice@contoso.test");
  EXPECT_EQ(never.state, LookupState::unavailable);
  EXPECT_NE(never.reason.find("never loaded"), std::string::npos) << never.reason;
  EXPECT_NE(never.reason.find("connection refused"), std::string::npos) << never.reason;

  database->down = false;
  ASSERT_TRUE(c->refresh());
  database->down = true;
  now += std::chrono::seconds(30);  // still fresh enough
  EXPECT_FALSE(c->refresh());
  EXPECT_TRUE(c->find_user("alice@contoso.test").is_found());
  now += std::chrono::seconds(1);  // older than max_stale
  for (auto state : {c->find_user("alice@contoso.test").state, c->find_number("+49307654321").state,
                     c->tenant(kT1).state})
    EXPECT_EQ(state, LookupState::unavailable);
  EXPECT_NE(c->tenant(kT1).reason.find("could not be refreshed for 31 s"), std::string::npos)
      << c->tenant(kT1).reason;
  database->down = false;
  ASSERT_TRUE(c->refresh());  // same version: nothing reloaded, fresh again
  EXPECT_TRUE(c->find_user("alice@contoso.test").is_found());
}

TEST_P(DirectoryCacheTest, PollThreadPicksUpOtherWriters) {
  DirectorySettings settings;
  settings.refresh_ms = 20;
  auto c = std::make_unique<DirectoryCache>(store, settings);  // the real clock
  ASSERT_TRUE(c->refresh());
  c->start();
  ASSERT_TRUE(writer->replace_tenant_directory(contoso()));
  // Bounded wait for the poll, not a timing assertion.
  for (int i = 0; i < 500 && !c->find_user("alice@contoso.test").is_found(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(c->find_user("alice@contoso.test").is_found());
  c->stop();
  c->stop();  // twice is harmless
}

INSTANTIATE_TEST_SUITE_P(Store, DirectoryCacheTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
