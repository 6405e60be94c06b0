#include "directory/directory_store.hpp"

#include <gtest/gtest.h>

#include "directory/directory_tables.hpp"
#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::directory::DirectoryStore;
using bh::directory::Page;
using bh::directory::ServiceNumber;
using bh::directory::Tenant;
using bh::directory::TenantDirectory;
using bh::directory::User;
using bh::store::Backend;
using bh::store::StoreErrc;
using bh::test::TestStore;

constexpr const char* kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
constexpr const char* kT2 = "11111111-2222-3333-4444-555555555555";

User user(std::string address, std::string tenant, std::vector<std::string> permissions = {"fax"},
          std::vector<std::string> aliases = {}) {
  User u;
  u.address = std::move(address);
  u.tenant = std::move(tenant);
  u.permissions = std::move(permissions);
  u.aliases = std::move(aliases);
  return u;
}

TenantDirectory contoso() {
  TenantDirectory d;
  d.tenant = {kT1, "Contoso", {"contoso.test"}};
  User alice = user("alice@contoso.test", "", {"fax", "sms"}, {"a@contoso.test"});
  alice.fax_numbers = {"+49301234567"};
  alice.mobile_numbers = {"+4915123456789"};
  alice.send_as = {"shared@contoso.test"};
  d.users = {alice, user("shared@contoso.test", "", {}), user("bob@contoso.test", "", {})};
  d.numbers = {{"+49307654321", "", "shared@contoso.test", "fax", "front desk"}};
  return d;
}

class DirectoryStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    store = open();
    ASSERT_TRUE(store);
  }
  std::unique_ptr<DirectoryStore> open() const {
    auto database = db.open();
    if (!database) return nullptr;
    auto opened = DirectoryStore::open(database);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  TestStore db{GetParam()};
  std::unique_ptr<DirectoryStore> store;
};

TEST_P(DirectoryStoreTest, ReplaceTenantDirectoryAndLookUp) {
  auto before = store->version();
  ASSERT_TRUE(before) << before.error().message;
  auto replaced = store->replace_tenant_directory(contoso());
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_GT(*store->version(), *before);

  auto alice = store->user("A@Contoso.TEST");  // by alias, case-insensitively
  ASSERT_TRUE(alice) << alice.error().message;
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->address, "alice@contoso.test");
  EXPECT_EQ((*alice)->tenant, kT1);
  EXPECT_EQ((*alice)->permissions, (std::vector<std::string>{"fax", "sms"}));
  EXPECT_EQ((*alice)->fax_numbers, (std::vector<std::string>{"+49301234567"}));
  EXPECT_EQ((*alice)->send_as, (std::vector<std::string>{"shared@contoso.test"}));
  EXPECT_FALSE(store->user("nobody@contoso.test")->has_value());
  auto number = store->number("+49307654321");
  ASSERT_TRUE(number && number->has_value());
  EXPECT_EQ((*number)->mailbox, "shared@contoso.test");
  auto tenant = store->tenant(kT1);
  ASSERT_TRUE(tenant && tenant->has_value());
  EXPECT_EQ((*tenant)->domains, (std::vector<std::string>{"contoso.test"}));

  // A second replace drops what the new directory does not have.
  TenantDirectory smaller = contoso();
  smaller.users.erase(smaller.users.begin() + 2);  // bob
  ASSERT_TRUE(store->replace_tenant_directory(smaller));
  EXPECT_FALSE(store->user("bob@contoso.test")->has_value());
  EXPECT_EQ(store->users(kT1, {})->size(), 2u);

  auto data = store->load();
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->version, *store->version());
  EXPECT_EQ(data->tenants.size(), 1u);
  EXPECT_EQ(data->users.size(), 2u);
  EXPECT_EQ(data->numbers.size(), 1u);
}

TEST_P(DirectoryStoreTest, ReplaceIsAllOrNothing) {
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));
  std::int64_t version = *store->version();
  // Another tenant that claims alice's alias: a conflict that names it, and
  // nothing of that tenant is stored.
  TenantDirectory fabrikam;
  fabrikam.tenant = {kT2, "Fabrikam", {"fabrikam.test", "contoso.test"}};
  fabrikam.users = {user("carol@fabrikam.test", ""), user("a@contoso.test", "")};
  // contoso.test is kT1's domain: refused before any address.
  auto refused = store->replace_tenant_directory(fabrikam);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict)) << refused.error().message;
  EXPECT_NE(
      refused.error().message.find("domain 'contoso.test' belongs to tenant " + std::string(kT1)),
      std::string::npos)
      << refused.error().message;
  // Without domains the address is still in kT1's domain: the conflict
  // names it.
  fabrikam.tenant.domains = {};
  refused = store->replace_tenant_directory(fabrikam);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("'a@contoso.test' is in domain 'contoso.test' of tenant " +
                                         std::string(kT1)),
            std::string::npos)
      << refused.error().message;
  // An address another user has, in no tenant's domain: the conflict names
  // its owner.
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {}}));
  refused = store->replace_tenant_directory(fabrikam);
  ASSERT_FALSE(refused);
  // Another tenant's user is not named: a tenant learns nothing of it.
  EXPECT_NE(refused.error().message.find("'a@contoso.test' is already used by another tenant"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find("alice"), std::string::npos) << refused.error().message;
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"contoso.test"}}));
  version = *store->version();
  EXPECT_FALSE(store->tenant(kT2)->has_value());
  EXPECT_FALSE(store->user("carol@fabrikam.test")->has_value());
  EXPECT_EQ(*store->version(), version);

  // A number of another tenant's user.
  fabrikam.users = {user("carol@fabrikam.test", "")};
  fabrikam.users[0].mobile_numbers = {"+4915123456789"};
  refused = store->replace_tenant_directory(fabrikam);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::conflict));
  EXPECT_NE(refused.error().message.find("+4915123456789"), std::string::npos);

  // Invalid input changes nothing either.
  TenantDirectory bad = contoso();
  bad.users[1].fax_numbers = {"not a number"};
  refused = store->replace_tenant_directory(bad);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(bh::store::is(refused.error(), StoreErrc::invalid));
  EXPECT_NE(refused.error().message.find("users[1].fax_numbers[0]"), std::string::npos);
  EXPECT_EQ(*store->version(), version);
}

TEST_P(DirectoryStoreTest, SingleObjectChanges) {
  // A user needs its tenant.
  auto orphan = store->put_user(user("alice@contoso.test", kT1));
  ASSERT_FALSE(orphan);
  EXPECT_TRUE(bh::store::is(orphan.error(), StoreErrc::invalid));
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"contoso.test"}}));
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {"fabrikam.test"}}));
  ASSERT_TRUE(store->put_user(user("Alice@contoso.test", kT1, {"fax"}, {"a@contoso.test"})));
  std::int64_t version = *store->version();
  // Update: the alias changes, the old one is free again.
  ASSERT_TRUE(store->put_user(user("alice@contoso.test", kT1, {"sms"}, {"al@contoso.test"})));
  EXPECT_GT(*store->version(), version);
  EXPECT_FALSE(store->user("a@contoso.test")->has_value());
  EXPECT_TRUE((*store->user("al@contoso.test"))->may("sms"));
  // Taken addresses and another tenant's user are conflicts.
  auto taken = store->put_user(user("bob@contoso.test", kT1, {}, {"al@contoso.test"}));
  ASSERT_FALSE(taken);
  EXPECT_TRUE(bh::store::is(taken.error(), StoreErrc::conflict)) << taken.error().message;
  auto moved = store->put_user(user("alice@contoso.test", kT2));
  ASSERT_FALSE(moved);
  EXPECT_TRUE(bh::store::is(moved.error(), StoreErrc::conflict));
  EXPECT_FALSE(store->user("bob@contoso.test")->has_value());

  // Service numbers go to a mailbox of their tenant.
  ServiceNumber line{"+49 30 7654321", kT1, "al@contoso.test", "fax", ""};
  ASSERT_TRUE(store->put_number(line)) << store->put_number(line).error().message;
  EXPECT_EQ((*store->number("+49307654321"))->number, "+49307654321");
  ServiceNumber foreign{"+49307654322", kT2, "alice@contoso.test", "fax", ""};
  EXPECT_TRUE(bh::store::is(store->put_number(foreign).error(), StoreErrc::invalid));
  // The mailbox of a number cannot go away under it.
  auto busy = store->remove_user("alice@contoso.test");
  ASSERT_FALSE(busy);
  EXPECT_TRUE(bh::store::is(busy.error(), StoreErrc::conflict)) << busy.error().message;
  ASSERT_TRUE(store->remove_number("+49307654321"));
  EXPECT_TRUE(bh::store::is(store->remove_number("+49307654321").error(), StoreErrc::not_found));
  ASSERT_TRUE(store->remove_user("alice@contoso.test"));
  EXPECT_TRUE(
      bh::store::is(store->remove_user("alice@contoso.test").error(), StoreErrc::not_found));
  EXPECT_FALSE(store->user("al@contoso.test")->has_value());
}

TEST_P(DirectoryStoreTest, RemoveTenantRemovesItsUsersAndNumbers) {
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));
  ASSERT_TRUE(store->remove_tenant(kT1));
  EXPECT_FALSE(store->tenant(kT1)->has_value());
  EXPECT_FALSE(store->user("alice@contoso.test")->has_value());
  EXPECT_FALSE(store->number("+49307654321")->has_value());
  EXPECT_TRUE(store->users("", {})->empty());
  EXPECT_TRUE(bh::store::is(store->remove_tenant(kT1).error(), StoreErrc::not_found));
  // Its addresses and numbers are free for another tenant now.
  TenantDirectory moved = contoso();
  moved.tenant.id = kT2;
  ASSERT_TRUE(store->replace_tenant_directory(moved));
}

TEST_P(DirectoryStoreTest, PagesAreOrderedByKey) {
  // One domain belongs to one tenant: here neither has any (no restriction).
  ASSERT_TRUE(store->put_tenant({kT2, "", {}}));
  ASSERT_TRUE(store->put_tenant({kT1, "", {}}));
  for (const char* address :
       {"d@contoso.test", "b@contoso.test", "e@contoso.test", "a@contoso.test", "c@contoso.test"})
    ASSERT_TRUE(store->put_user(user(address, address[0] == 'c' ? kT2 : kT1)));
  std::vector<std::string> seen;
  Page page{"", 2};
  while (true) {
    auto users = store->users(kT1, page);
    ASSERT_TRUE(users) << users.error().message;
    if (users->empty()) break;
    EXPECT_LE(users->size(), 2u);
    for (const User& u : *users) seen.push_back(u.address);
    page.after = users->back().address;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a@contoso.test", "b@contoso.test", "d@contoso.test",
                                            "e@contoso.test"}));
  EXPECT_EQ(store->users("", {"b@contoso.test", 2})->front().address, "c@contoso.test");
  auto tenants = store->tenants({"", 1});
  ASSERT_TRUE(tenants);
  ASSERT_EQ(tenants->size(), 1u);
  EXPECT_EQ(tenants->front().id, kT2);  // "1111..." sorts first
  EXPECT_EQ(store->tenants({kT2, 10})->front().id, kT1);
  EXPECT_TRUE(bh::store::is(store->users("", {"", 0}).error(), StoreErrc::invalid));
  EXPECT_TRUE(bh::store::is(store->users("", {"", 1001}).error(), StoreErrc::invalid));
}

TEST_P(DirectoryStoreTest, SecondOpenerSeesChangesAndMigrationsOnce) {
  auto other = open();  // migrations already applied: nothing happens twice
  ASSERT_TRUE(other);
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));
  EXPECT_EQ(*other->version(), *store->version());
  EXPECT_TRUE((*other->user("alice@contoso.test"))->may("sms"));
}

// Review F1: a service number never takes over a user's number, of the
// same or another tenant, and another tenant's user keeps it.
TEST_P(DirectoryStoreTest, ServiceNumberCannotTakeAUsersNumber) {
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));  // alice has +49301234567
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {"fabrikam.test"}}));
  ASSERT_TRUE(store->put_user(user("eve@fabrikam.test", kT2)));
  for (const ServiceNumber& steal :
       {ServiceNumber{"+49301234567", kT2, "eve@fabrikam.test", "fax", ""},
        ServiceNumber{"+4915123456789", kT1, "bob@contoso.test", "sms", ""}}) {
    auto taken = store->put_number(steal);
    ASSERT_FALSE(taken) << steal.number;
    EXPECT_TRUE(bh::store::is(taken.error(), StoreErrc::conflict)) << taken.error().message;
    // The same tenant is told whose number it is; another tenant only that it is taken.
    bool same_tenant = steal.tenant == kT1;
    EXPECT_EQ(taken.error().message.find("alice@contoso.test") != std::string::npos, same_tenant)
        << taken.error().message;
    if (!same_tenant) {
      EXPECT_NE(taken.error().message.find("already belongs to another tenant"), std::string::npos)
          << taken.error().message;
    }
  }
  // alice still owns both: a push of kT2 claiming it is refused too.
  TenantDirectory fabrikam;
  fabrikam.tenant = {kT2, "Fabrikam", {"fabrikam.test"}};
  fabrikam.users = {user("eve@fabrikam.test", "")};
  fabrikam.numbers = {{"+49301234567", "", "eve@fabrikam.test", "fax", ""}};
  EXPECT_TRUE(
      bh::store::is(store->replace_tenant_directory(fabrikam).error(), StoreErrc::conflict));
  auto data = store->load();
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->numbers.size(), 1u);  // only the front desk
  // The owner index still names alice: her tenant can push her again.
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));
  // A service number of another tenant is not taken over either.
  auto other = store->put_number({"+49307654321", kT2, "eve@fabrikam.test", "fax", ""});
  ASSERT_FALSE(other);
  EXPECT_TRUE(bh::store::is(other.error(), StoreErrc::conflict));
  EXPECT_EQ((*store->number("+49307654321"))->tenant, kT1);
  // Removing a service number leaves a user's number of the tenant alone.
  ASSERT_TRUE(store->remove_number("+49307654321"));
  auto eve_number = user("eve@fabrikam.test", kT2);
  eve_number.fax_numbers = {"+49301234567"};
  EXPECT_TRUE(bh::store::is(store->put_user(eve_number).error(), StoreErrc::conflict));
}

// Review F2: a domain belongs to one tenant, in put_tenant and in the push.
TEST_P(DirectoryStoreTest, DomainBelongsToOneTenant) {
  ASSERT_TRUE(store->replace_tenant_directory(contoso()));
  auto claimed = store->put_tenant({kT2, "Fabrikam", {"fabrikam.test", "contoso.test"}});
  ASSERT_FALSE(claimed);
  EXPECT_TRUE(bh::store::is(claimed.error(), StoreErrc::conflict)) << claimed.error().message;
  EXPECT_NE(claimed.error().message.find(kT1), std::string::npos) << claimed.error().message;
  EXPECT_FALSE(store->tenant(kT2)->has_value());
  TenantDirectory pushed = contoso();
  pushed.tenant.id = kT2;
  pushed.users.clear();
  pushed.numbers.clear();
  EXPECT_TRUE(bh::store::is(store->replace_tenant_directory(pushed).error(), StoreErrc::conflict));
  EXPECT_FALSE(store->tenant(kT2)->has_value());
  // A tenant without domains cannot claim addresses in another's domain.
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {}}));
  auto squatted = store->put_user(user("ceo@contoso.test", kT2));
  ASSERT_FALSE(squatted);
  EXPECT_TRUE(bh::store::is(squatted.error(), StoreErrc::conflict)) << squatted.error().message;
  EXPECT_FALSE(store->user("ceo@contoso.test")->has_value());
  ASSERT_TRUE(store->remove_tenant(kT2));
  // The owner may change its own domains; a domain it drops is free again.
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"contoso.test", "c.test"}}));
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"c.test"}}));
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {"contoso.test"}}));
  // So are the domains of a removed tenant.
  ASSERT_TRUE(store->remove_tenant(kT1));
  ASSERT_TRUE(store->put_tenant({kT2, "Fabrikam", {"contoso.test", "c.test"}}));
}

// Review F8: an alias that a service number goes to cannot be dropped.
TEST_P(DirectoryStoreTest, PutUserKeepsAliasesOfServiceNumbers) {
  ASSERT_TRUE(store->put_tenant({kT1, "Contoso", {"contoso.test"}}));
  ASSERT_TRUE(store->put_user(user("alice@contoso.test", kT1, {"fax"}, {"desk@contoso.test"})));
  ASSERT_TRUE(store->put_number({"+49307654321", kT1, "desk@contoso.test", "fax", ""}));
  auto dropped = store->put_user(user("alice@contoso.test", kT1, {"fax"}, {}));
  ASSERT_FALSE(dropped);
  EXPECT_TRUE(bh::store::is(dropped.error(), StoreErrc::conflict)) << dropped.error().message;
  EXPECT_TRUE(store->user("desk@contoso.test")->has_value());
  // Keeping the alias (and adding one) is fine.
  ASSERT_TRUE(store->put_user(
      user("alice@contoso.test", kT1, {"sms"}, {"desk@contoso.test", "al@contoso.test"})));
}

// Migration step 2 fills the domain index from the tenants stored before
// (a domain two of them listed goes to the first by id).
TEST_P(DirectoryStoreTest, DomainIndexIsFilledFromExistingTenants) {
  // A store of its own that has seen step 1 only (the fixture's has both).
  const std::vector<bh::store::Migration> v1 = {bh::directory::tables::migrations().front()};
  TestStore old_db{GetParam()};
  ASSERT_TRUE(old_db.ok()) << old_db.message();
  auto old_database = old_db.open();
  ASSERT_TRUE(old_database);
  ASSERT_TRUE(old_database->migrate("directory", v1));
  ASSERT_TRUE(old_database->transaction([](bh::store::Connection& c) -> bh::Status {
    for (const auto& [id, domains] :
         {std::pair<std::string, std::string>{kT2, "fabrikam.test\nshared.test"},
          std::pair<std::string, std::string>{kT1, "contoso.test\nshared.test"}})
      if (auto done =
              c.execute("INSERT INTO directory_tenants (id, name, domains) VALUES ($1, '', $2)",
                        {id, domains});
          !done)
        return done.error();
    return bh::ok_status();
  }));
  auto opened = DirectoryStore::open(old_database);
  ASSERT_TRUE(opened) << opened.error().message;
  DirectoryStore& upgraded = **opened;
  // kT2 ("1111...") sorts first and has shared.test; each keeps its own domain.
  EXPECT_TRUE(
      bh::store::is(upgraded.put_tenant({kT1, "", {"shared.test"}}).error(), StoreErrc::conflict));
  EXPECT_TRUE(
      bh::store::is(upgraded.put_tenant({kT2, "", {"contoso.test"}}).error(), StoreErrc::conflict));
  EXPECT_TRUE(upgraded.put_tenant({kT2, "", {"fabrikam.test", "shared.test"}}));
}

INSTANTIATE_TEST_SUITE_P(Store, DirectoryStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
