#include "directory/users_import.hpp"

#include <gtest/gtest.h>

#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::directory::CsvUser;
using bh::directory::DirectoryStore;
using bh::directory::ServiceNumber;
using bh::directory::TenantDirectory;
using bh::directory::User;
using bh::store::Backend;
using bh::test::TestStore;

constexpr const char* kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
constexpr const char* kT2 = "11111111-2222-3333-4444-555555555555";

CsvUser row(std::string address, std::string tenant, std::size_t line,
            std::vector<std::string> permissions = {"fax"}) {
  CsvUser r;
  r.user.address = std::move(address);
  r.user.tenant = std::move(tenant);
  r.user.permissions = std::move(permissions);
  r.line = line;
  return r;
}

class UsersImportTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    auto opened = DirectoryStore::open(db.open());
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }
  std::vector<std::string> addresses(const std::string& tenant) {
    std::vector<std::string> out;
    auto users = store->users(tenant, {"", 1000});  // named: the loop must not outlive it
    EXPECT_TRUE(users) << users.error().message;
    if (users)
      for (const User& u : *users) out.push_back(u.address);
    return out;
  }
  TestStore db{GetParam()};
  std::unique_ptr<DirectoryStore> store;
};

TEST_P(UsersImportTest, ReplacesTheUsersOfTheFilesTenantsOnly) {
  // T1 exists with its name, domains, users and a service number.
  TenantDirectory contoso;
  contoso.tenant = {kT1, "Contoso", {"contoso.test"}};
  User old_user;
  old_user.address = "old@contoso.test";
  User desk;
  desk.address = "desk@contoso.test";
  contoso.users = {old_user, desk};
  contoso.numbers = {{"+49307654321", "", "desk@contoso.test", "fax", ""},
                     {"+49307654322", "", "old@contoso.test", "fax", ""}};
  ASSERT_TRUE(store->replace_tenant_directory(contoso));
  TenantDirectory other;
  other.tenant = {kT2, "Other", {"other.test"}};
  User keep;
  keep.address = "keep@other.test";
  other.users = {keep};
  ASSERT_TRUE(store->replace_tenant_directory(other));

  auto summary = bh::directory::import_users(
      *store, {row("alice@contoso.test", kT1, 2), row("desk@contoso.test", kT1, 3, {})},
      "users.csv");
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->users, 2u);
  EXPECT_EQ(summary->tenants, 1u);
  EXPECT_EQ(addresses(kT1), (std::vector<std::string>{"alice@contoso.test", "desk@contoso.test"}));
  EXPECT_EQ(addresses(kT2), (std::vector<std::string>{"keep@other.test"}));  // not in the file
  EXPECT_EQ((*store->tenant(kT1))->domains, (std::vector<std::string>{"contoso.test"}));
  EXPECT_TRUE(store->number("+49307654321")->has_value());   // its mailbox stays
  EXPECT_FALSE(store->number("+49307654322")->has_value());  // its mailbox is gone
  ASSERT_EQ(summary->warnings.size(), 1u);
  EXPECT_NE(summary->warnings[0].find("+49307654322"), std::string::npos);
}

TEST_P(UsersImportTest, NewTenantsAreCreatedWithTheirIdAndErrorsNameTheLine) {
  const std::string kT3 = "0b0b0b0b-1111-4222-8333-444444444444";
  auto summary = bh::directory::import_users(*store, {row("a@anywhere.test", kT3, 2)}, "u.csv");
  ASSERT_TRUE(summary) << summary.error().message;
  auto tenant = store->tenant(kT3);
  ASSERT_TRUE(tenant && tenant->has_value());
  EXPECT_TRUE((*tenant)->domains.empty());

  // With domains, addresses outside them are refused, naming the line.
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"contoso.test"}}));
  auto refused = bh::directory::import_users(
      *store, {row("a@contoso.test", kT1, 2), row("b@elsewhere.test", kT1, 5)}, "u.csv");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), bh::store::StoreErrc::invalid));
  EXPECT_NE(refused.error().message.find("u.csv:5: 'b@elsewhere.test' is not in a domain"),
            std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(addresses(kT1).empty());
}

TEST_P(UsersImportTest, AnEmptyFileRemovesEveryTenantsUsers) {
  ASSERT_TRUE(bh::directory::import_users(
      *store, {row("a@contoso.test", kT1, 2), row("b@other.test", kT2, 3)}, "u.csv"));
  auto summary = bh::directory::import_users(*store, {}, "u.csv");
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->tenants, 2u);
  EXPECT_TRUE(addresses("").empty());
  EXPECT_TRUE(store->tenant(kT1)->has_value());  // the tenants stay
}

INSTANTIATE_TEST_SUITE_P(Store, UsersImportTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
