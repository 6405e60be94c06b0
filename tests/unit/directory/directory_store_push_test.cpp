// A push bigger than one batched statement (store/batch.hpp): every row is
// written, a conflict in the last statement leaves nothing, and the
// conflict reported is the first one in the order of the users.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "directory/directory_store.hpp"
#include "directory/store_lists.hpp"
#include "store/batch.hpp"
#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::directory::DirectoryStore;
using bh::directory::TenantDirectory;
using bh::directory::User;
using bh::store::Backend;
using bh::store::StoreErrc;
using bh::test::TestStore;

constexpr const char* kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
constexpr const char* kT2 = "11111111-2222-3333-4444-555555555555";

// Three statements' worth of users and more; with an alias each, the
// address index gets twice as many rows.
const int kUsers = static_cast<int>(3 * bh::store::kMaxBatchRows + 17);

User numbered_user(const std::string& domain, int i, int number_base) {
  User u;
  u.address = "user" + std::to_string(i) + "@" + domain;
  u.display_name = "User " + std::to_string(i);
  u.aliases = {"alias" + std::to_string(i) + "@" + domain};
  u.fax_numbers = {"+4930" + std::to_string(number_base + i)};
  u.permissions = {"fax"};
  return u;
}

TenantDirectory big_tenant(const std::string& id, const std::string& domain, int number_base) {
  TenantDirectory d;
  d.tenant = {id, "Big " + domain, {domain}};
  for (int i = 0; i < kUsers; ++i) d.users.push_back(numbered_user(domain, i, number_base));
  d.numbers = {
      {"+4930" + std::to_string(number_base + kUsers), "", "user0@" + domain, "fax", "desk"}};
  return d;
}

class DirectoryPushTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    database = db.open();
    ASSERT_TRUE(database);
    auto opened = DirectoryStore::open(database);
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }
  std::int64_t count(const std::string& table, const std::string& tenant) {
    auto rows = database->query("SELECT COUNT(*) FROM " + table + " WHERE tenant = $1", {tenant});
    EXPECT_TRUE(rows) << rows.error().message;
    return rows && !rows->empty() ? rows->front().integer(0) : -1;
  }
  // Every row of the tenant's push in every table.
  void expect_complete(const std::string& tenant, const std::string& domain, int number_base) {
    EXPECT_EQ(count("directory_users", tenant), kUsers);
    EXPECT_EQ(count("directory_addresses", tenant), 2 * kUsers);
    EXPECT_EQ(count("directory_number_owners", tenant), kUsers + 1);
    EXPECT_EQ(count("directory_numbers", tenant), 1);
    auto users = bh::directory::all_users(*store, tenant);
    ASSERT_TRUE(users) << users.error().message;
    ASSERT_EQ(users->size(), static_cast<std::size_t>(kUsers));
    // The last user of the last statement, found by its alias, with its lists.
    const int last = kUsers - 1;
    auto found = store->user("alias" + std::to_string(last) + "@" + domain);
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->address, "user" + std::to_string(last) + "@" + domain);
    EXPECT_EQ((*found)->fax_numbers,
              std::vector<std::string>{"+4930" + std::to_string(number_base + last)});
    EXPECT_EQ((*found)->aliases,
              std::vector<std::string>{"alias" + std::to_string(last) + "@" + domain});
  }

  TestStore db{GetParam()};
  std::shared_ptr<bh::store::Database> database;
  std::unique_ptr<DirectoryStore> store;
};

TEST_P(DirectoryPushTest, EveryRowOfABigPushIsWritten) {
  auto replaced = store->replace_tenant_directory(big_tenant(kT1, "contoso.test", 5000000));
  ASSERT_TRUE(replaced) << replaced.error().message;
  expect_complete(kT1, "contoso.test", 5000000);
  // Again, smaller: what the new push does not have is gone.
  TenantDirectory smaller = big_tenant(kT1, "contoso.test", 5000000);
  smaller.users.resize(10);
  ASSERT_TRUE(store->replace_tenant_directory(smaller));
  EXPECT_EQ(count("directory_users", kT1), 10);
  EXPECT_EQ(count("directory_addresses", kT1), 20);
  EXPECT_FALSE(store->user("alias" + std::to_string(kUsers - 1) + "@contoso.test")->has_value());
}

TEST_P(DirectoryPushTest, AConflictInTheLastBatchChangesNothing) {
  ASSERT_TRUE(store->replace_tenant_directory(big_tenant(kT1, "contoso.test", 5000000)));
  std::int64_t version = *store->version();

  // A new tenant whose last user has a number of kT1's first user: refused,
  // and none of its thousands of rows before it stays.
  TenantDirectory fabrikam = big_tenant(kT2, "fabrikam.test", 6000000);
  fabrikam.users.back().fax_numbers = {"+49305000000"};
  auto refused = store->replace_tenant_directory(fabrikam);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("number +49305000000 already belongs to another tenant"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(*store->version(), version);
  EXPECT_FALSE(store->tenant(kT2)->has_value());
  for (const char* table :
       {"directory_users", "directory_addresses", "directory_number_owners", "directory_numbers"})
    EXPECT_EQ(count(table, kT2), 0) << table;
  EXPECT_FALSE(store->user("user0@fabrikam.test")->has_value());

  // An existing tenant's failed replace keeps its old directory whole.
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {"fabrikam.test"}}));
  User eve = numbered_user("fabrikam.test", 0, 7000000);
  eve.tenant = kT2;
  ASSERT_TRUE(store->put_user(eve));
  TenantDirectory again = big_tenant(kT1, "contoso.test", 5000000);
  again.users.back().fax_numbers = {"+49307000000"};  // eve's
  refused = store->replace_tenant_directory(again);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict)) << refused.error().message;
  expect_complete(kT1, "contoso.test", 5000000);
}

// The batch reads every owner first and writes later; the conflict it
// reports is still the one the users met first, one after the other.
TEST_P(DirectoryPushTest, TheFirstConflictInUserOrderIsReported) {
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {}}));
  for (int i : {1, 2}) {
    User taken = numbered_user("elsewhere.test", i, 7000000);
    taken.tenant = kT2;
    ASSERT_TRUE(store->put_user(taken));
  }
  TenantDirectory pushed = big_tenant(kT1, "contoso.test", 5000000);
  pushed.tenant.domains = {};  // addresses of any domain allowed
  // User 5's alias is taken (in the first statement), and so are numbers of
  // users 3 (earlier in order) and the last one.
  pushed.users[5].aliases = {"alias1@elsewhere.test"};
  pushed.users[3].fax_numbers = {"+49307000002"};
  pushed.users.back().address = "user2@elsewhere.test";
  auto refused = store->replace_tenant_directory(pushed);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("number +49307000002 already belongs to another tenant"),
            std::string::npos)
      << refused.error().message;
  pushed.users[3].fax_numbers = {"+49305000003"};
  refused = store->replace_tenant_directory(pushed);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(
                "alias 'alias1@elsewhere.test' is already used by another tenant"),
            std::string::npos)
      << refused.error().message;
  pushed.users[5].aliases = {"alias5@contoso.test"};
  refused = store->replace_tenant_directory(pushed);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(
                "address 'user2@elsewhere.test' is already used by another tenant"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(store->tenant(kT1)->has_value());
}

TenantDirectory small_tenant(const std::string& id, const std::string& domain, int round) {
  TenantDirectory d;
  d.tenant = {id, "Small " + domain, {domain}};
  User u;
  u.address = "round" + std::to_string(round) + "@" + domain;
  u.display_name = "Round " + std::to_string(round);
  d.users.push_back(u);
  return d;
}

// A push answers the version its own transaction wrote, not one a later
// change made (the admin API's PUT .../directory answers it).
TEST_P(DirectoryPushTest, APushReturnsTheVersionItWrote) {
  auto before = store->version();
  ASSERT_TRUE(before) << before.error().message;
  auto first = store->replace_tenant_directory(small_tenant(kT1, "contoso.test", 0));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, *before + 1);
  auto second = store->replace_tenant_directory(small_tenant(kT2, "fabrikam.test", 0));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, *first + 1);
  auto now = store->version();
  ASSERT_TRUE(now);
  EXPECT_EQ(*now, *second);
}

// Pushes at once from two threads: each returns a version of its own, and
// together they are every version the pushes made, once.
TEST_P(DirectoryPushTest, PushesAtOnceEachReturnAVersionOfTheirOwn) {
  constexpr int kRounds = 8;
  auto before = store->version();
  ASSERT_TRUE(before) << before.error().message;
  std::vector<std::int64_t> versions[2];
  std::string errors[2];
  auto pusher = [&](int which) {
    const char* id = which == 0 ? kT1 : kT2;
    const std::string domain = which == 0 ? "contoso.test" : "fabrikam.test";
    for (int round = 0; round < kRounds; ++round) {
      auto pushed = store->replace_tenant_directory(small_tenant(id, domain, round));
      if (!pushed) {
        errors[which] = pushed.error().message;
        return;
      }
      versions[which].push_back(*pushed);
    }
  };
  std::thread a(pusher, 0);
  std::thread b(pusher, 1);
  a.join();
  b.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  std::vector<std::int64_t> all = versions[0];
  all.insert(all.end(), versions[1].begin(), versions[1].end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected;
  for (int i = 1; i <= 2 * kRounds; ++i) expected.push_back(*before + i);
  EXPECT_EQ(all, expected);
  // Each thread's versions grow: its pushes ran one after the other.
  EXPECT_TRUE(std::is_sorted(versions[0].begin(), versions[0].end()));
  EXPECT_TRUE(std::is_sorted(versions[1].begin(), versions[1].end()));
}

INSTANTIATE_TEST_SUITE_P(Store, DirectoryPushTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
