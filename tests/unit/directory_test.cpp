#include <gtest/gtest.h>

#include <filesystem>

#include "directory/sqlite_directory.hpp"
#include "mail/header_block.hpp"

using namespace bh;

TEST(DirectoryCsv, ParsesUsersAndNamesBadLines) {
  auto users = directory::parse_users_csv(
      "address,tenant,permissions\r\n"
      "Alice@Contoso.test,4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B,fax;sms\n"
      "# a comment\n"
      "bob@contoso.test,4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b,\n",
      "users.csv");
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ(users->at(0).address, "alice@contoso.test");
  EXPECT_EQ(users->at(0).tenant, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b");
  EXPECT_TRUE(users->at(0).may("sms"));
  EXPECT_FALSE(users->at(1).may("fax"));

  auto bad =
      directory::parse_users_csv("address,tenant,permissions\nnot an address,x,fax\n", "users.csv");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "users.csv:2: 'not an address' is not a mail address");
  EXPECT_FALSE(directory::parse_users_csv("a,b\n", "u.csv"));
}

TEST(SqliteDirectory, ImportReplacesAndLooksUpCaseInsensitively) {
  auto path = std::filesystem::temp_directory_path() /
              ("bh-dir-test-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto store = directory::SqliteDirectory::open(path.string());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->replace_users({{"a@x.test", "t1", {"fax"}}, {"b@x.test", "t1", {}}}));
    EXPECT_TRUE((*store)->find_user("A@X.test")->may("fax"));
    ASSERT_TRUE((*store)->replace_users({{"c@x.test", "t2", {"sms"}}}));
    EXPECT_FALSE((*store)->find_user("a@x.test"));
    EXPECT_EQ((*store)->list()->size(), 1u);
  }
  std::filesystem::remove(path);
}

TEST(HeaderBlock, FieldsWithFoldingAndFromAddress) {
  std::string content =
      "From: \"Doe, John\" <john@contoso.test>\r\nSubject: a\r\n\tfolded\r\nX-A : b\r\n\r\nbody: "
      "no\r\n";
  HeaderBlock block(content);
  ASSERT_EQ(block.fields().size(), 3u);
  EXPECT_EQ(HeaderBlock::unfolded(block.all("subject").at(0)->value), "a folded");
  EXPECT_EQ(block.all("X-A").size(), 1u);
  EXPECT_EQ(address_in_header(block.all("From").at(0)->value), "john@contoso.test");
  EXPECT_EQ(address_in_header("a@x.test, b@y.test"), "");
  EXPECT_EQ(address_in_header(" plain@x.test (comment)"), "plain@x.test");
}
