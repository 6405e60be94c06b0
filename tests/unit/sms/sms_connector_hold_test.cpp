// The recipient is pending only once its parts' records committed: with
// the store held (every transaction waits), the SMSC's answers are in but
// no result comes; once the store goes on, the result is pending and the
// parts are there.
#include "tests/unit/sms/sms_connector_fixture.hpp"

namespace bh::connectors::sms {
namespace {

using namespace connector_test;
using bh::test::eventually;
using namespace std::chrono_literals;

// The shared store, whose transactions wait while held.
class HeldDatabase final : public store::Database {
 public:
  explicit HeldDatabase(std::shared_ptr<store::Database> inner) : inner_(std::move(inner)) {}
  store::Backend backend() const override { return inner_->backend(); }
  std::string describe() const override { return inner_->describe(); }
  Status transaction(const std::function<Status(store::Connection&)>& fn) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      released_.wait(lock, [this] { return !held_; });
      --waiting_;
    }
    return inner_->transaction(fn);
  }
  // Single statements (the preparation's reads) are not held.
  Result<store::Rows> query(std::string_view sql, const store::Params& params = {}) override {
    return inner_->query(sql, params);
  }
  Result<std::int64_t> execute(std::string_view sql, const store::Params& params = {}) override {
    return inner_->execute(sql, params);
  }
  void hold(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    released_.notify_all();
  }
  int waiting() {
    std::lock_guard lock(mutex_);
    return waiting_;
  }

 private:
  std::shared_ptr<store::Database> inner_;
  std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  int waiting_ = 0;
};

TEST_F(SmsConnectorTest, PendingComesOnlyOnceTheRecordsCommitted) {
  auto held = std::make_shared<HeldDatabase>(database);
  database = held;  // start() attaches it
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  // A first delivery opens everything the store thread reads lazily.
  ASSERT_EQ(wait(send({kTo}, mail("warm up"), "Q0050")).at(0).outcome, Outcome::pending);
  held->hold(true);
  auto future = send({kTo}, mail(std::string(400, 'x')), "Q0051");
  ASSERT_TRUE(eventually([&] { return smsc.message_ids().size() == 4; }));  // 1 + 3 answered
  // The records wait for the store: no result yet.
  ASSERT_TRUE(eventually([&] { return held->waiting() > 0; }));
  EXPECT_EQ(future.wait_for(300ms), std::future_status::timeout);
  held->hold(false);
  auto results = wait(std::move(future));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  auto parts = store->parts_of("sms-test", delivery_tag("Q0051", kTo));
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->size(), 3u);
}

}  // namespace
}  // namespace bh::connectors::sms
