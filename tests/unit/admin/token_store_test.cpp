#include "admin/token_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "store/store_error.hpp"

namespace bh::admin {
namespace {

class AdminTokenStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bh-token-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::StoreSettings settings;
    settings.path = (dir_ / "store.db").string();
    auto db = store::open_database(settings);
    ASSERT_TRUE(db) << db.error().message;
    db_ = *db;
    auto tokens = TokenStore::open(db_);
    ASSERT_TRUE(tokens) << tokens.error().message;
    tokens_ = std::move(*tokens);
  }
  void TearDown() override {
    tokens_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<TokenStore> tokens_;
};

TEST_F(AdminTokenStore, CreatedTokenAuthenticatesWithItsScopeAndTenant) {
  auto made = tokens_->create(Scope::write, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b", "ci");
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(made->text.starts_with("bh_" + made->info.id + "_"));
  EXPECT_EQ(made->text.size(), 3 + 16 + 1 + 64u);
  auto caller = tokens_->authenticate(made->text);
  ASSERT_TRUE(caller);
  ASSERT_TRUE(caller->has_value());
  EXPECT_EQ((*caller)->token_id, made->info.id);
  EXPECT_EQ((*caller)->scope, Scope::write);
  EXPECT_EQ((*caller)->tenant, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b");
}

TEST_F(AdminTokenStore, OnlyTheHashIsStored) {
  auto made = tokens_->create(Scope::admin, "", "");
  ASSERT_TRUE(made);
  std::string secret = made->text.substr(made->text.rfind('_') + 1);
  auto rows = db_->query("SELECT * FROM bh_admin_tokens");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  for (std::size_t i = 0; i < rows->front().columns.size(); ++i)
    EXPECT_EQ(rows->front().text(i).find(secret), std::string::npos) << "column " << i;
}

TEST_F(AdminTokenStore, WrongMalformedAndRevokedTokensAreRefused) {
  auto made = tokens_->create(Scope::read, "", "");
  ASSERT_TRUE(made);
  std::string wrong = made->text;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  for (const std::string& text :
       {wrong, std::string(""), std::string("bh_"), made->text + "0", made->text.substr(1),
        "bh_" + made->info.id + "_", "bh_" + made->info.id + "_" + std::string(64, 'G'),
        "bh_0123456789abcdef_" + made->text.substr(made->text.rfind('_') + 1)}) {
    auto caller = tokens_->authenticate(text);
    ASSERT_TRUE(caller);
    EXPECT_FALSE(caller->has_value()) << text;
  }
  ASSERT_TRUE(tokens_->revoke(made->info.id));
  auto caller = tokens_->authenticate(made->text);
  ASSERT_TRUE(caller);
  EXPECT_FALSE(caller->has_value());
  auto again = tokens_->revoke(made->info.id);
  ASSERT_FALSE(again);
  EXPECT_TRUE(store::is(again.error(), store::StoreErrc::not_found));
}

TEST_F(AdminTokenStore, ListShowsTokensAndLastUse) {
  auto a = tokens_->create(Scope::read, "", "first");
  auto b = tokens_->create(Scope::admin, "", "second");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(tokens_->authenticate(b->text));
  auto listed = tokens_->list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const TokenInfo& t : *listed) {
    EXPECT_GT(t.created, 0);
    if (t.id == a->info.id) {
      EXPECT_EQ(t.description, "first");
      EXPECT_EQ(t.last_used, 0);
    } else {
      EXPECT_EQ(t.id, b->info.id);
      EXPECT_EQ(t.scope, Scope::admin);
      EXPECT_GT(t.last_used, 0);
    }
  }
}

}  // namespace
}  // namespace bh::admin
