// A real store (tests/unit/store/store_fixture.hpp) that can be made to
// fail as an unreachable one does (StoreErrc::unavailable), and that counts
// the statements its callers ran or tried.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/store_error.hpp"

namespace bh::test {

class FlakyDatabase final : public store::Database {
 public:
  explicit FlakyDatabase(std::shared_ptr<store::Database> inner) : inner_(std::move(inner)) {}
  store::Backend backend() const override { return inner_->backend(); }
  std::string describe() const override { return inner_->describe(); }
  Status transaction(const std::function<Status(store::Connection&)>& fn) override {
    if (Status refused = attempt("(transaction)"); !refused) return refused;
    return inner_->transaction(fn);
  }
  Result<store::Rows> query(std::string_view sql, const store::Params& params = {}) override {
    if (Status refused = attempt(sql); !refused) return refused.error();
    return inner_->query(sql, params);
  }
  Result<std::int64_t> execute(std::string_view sql, const store::Params& params = {}) override {
    if (Status refused = attempt(sql); !refused) return refused.error();
    return inner_->execute(sql, params);
  }
  std::atomic<bool> down{false};
  // Statements (and transactions) asked for, down or not.
  std::vector<std::string> asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }
  std::size_t count(std::string_view part) {
    std::size_t n = 0;
    for (const std::string& sql : asked())
      if (sql.find(part) != std::string::npos) ++n;
    return n;
  }

 private:
  Status attempt(std::string_view sql) {
    {
      std::lock_guard lock(mutex_);
      asked_.emplace_back(sql);
    }
    if (down)
      return store::store_error(store::StoreErrc::unavailable, "injected: the store is down");
    return ok_status();
  }
  std::shared_ptr<store::Database> inner_;
  std::mutex mutex_;
  std::vector<std::string> asked_;
};

}  // namespace bh::test
