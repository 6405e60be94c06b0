// A fresh SMS store of each backend for each test (SQLite, and a database
// of its own on the shared PostgreSQL server: test names end in the
// backend's name).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "connectors/sms/sms_store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace bh::test {

class SmsStoreFixture : public ::testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    store = open();
    ASSERT_TRUE(store);
  }
  // Another opener of the same store (a restart, another node).
  std::unique_ptr<connectors::sms::SmsStore> open() const {
    auto database = db.open();
    if (!database) return nullptr;
    auto opened = connectors::sms::SmsStore::open(database);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  TestStore db{GetParam()};
  std::unique_ptr<connectors::sms::SmsStore> store;
};

}  // namespace bh::test
