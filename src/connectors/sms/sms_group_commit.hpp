// Group commit for the SMS connector's store thread (sms_connector.hpp).
// A store::Database that passes every call through to the store the nodes
// share, except inside group(fn): there every call made on it from fn's
// thread (the SmsStore's add_part, add_receipt and forget of one round of
// the store thread) joins one transaction of the shared store, each in a
// savepoint of its own. One commit - one fsync with SQLite's
// synchronous=FULL - then makes a whole round of parts and receipts
// durable instead of one commit each.
//
// A call that fails inside the group is rolled back to its savepoint and
// fails alone, as it would have on its own. A call that succeeded is
// durable only once group() returned ok: callers answer (an SMSC, a
// delivery) only after that, and take every call of a failed group as
// failed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "store/database.hpp"

namespace bh::connectors::sms {

class GroupCommitDatabase final : public store::Database {
 public:
  explicit GroupCommitDatabase(std::shared_ptr<store::Database> shared)
      : shared_(std::move(shared)) {}

  store::Backend backend() const override { return shared_->backend(); }
  std::string describe() const override { return shared_->describe(); }
  Status transaction(const std::function<Status(store::Connection&)>& fn) override;
  Result<store::Rows> query(std::string_view sql, const store::Params& params = {}) override;
  Result<std::int64_t> execute(std::string_view sql, const store::Params& params = {}) override;

  // Runs fn with every call on this database (from this thread) inside one
  // transaction; returns the commit's status. Not nested.
  Status group(const std::function<void()>& fn);

 private:
  // The open group's connection when the caller is the group's thread.
  store::Connection* joined() const;

  std::shared_ptr<store::Database> shared_;
  store::Connection* open_ = nullptr;  // read only by owner_
  std::atomic<std::thread::id> owner_{};
};

}  // namespace bh::connectors::sms
