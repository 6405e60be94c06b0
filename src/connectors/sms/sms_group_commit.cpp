#include "connectors/sms/sms_group_commit.hpp"

namespace bh::connectors::sms {
namespace {

// One call inside the group: its own savepoint, so that its failure undoes
// only its own statements (PostgreSQL also refuses every later statement of
// a transaction after an error until it is rolled back to a savepoint).
Status in_savepoint(store::Connection& connection,
                    const std::function<Status(store::Connection&)>& fn) {
  if (auto begun = connection.execute("SAVEPOINT bh_sms_call"); !begun) return begun.error();
  Status result = ok_status();
  try {
    result = fn(connection);
  } catch (...) {
    // Undone like a failure; the caller's catch answers for it.
    (void)connection.execute("ROLLBACK TO SAVEPOINT bh_sms_call");
    (void)connection.execute("RELEASE SAVEPOINT bh_sms_call");
    throw;
  }
  if (result) {
    if (auto released = connection.execute("RELEASE SAVEPOINT bh_sms_call"); !released)
      return released.error();
    return result;
  }
  (void)connection.execute("ROLLBACK TO SAVEPOINT bh_sms_call");
  (void)connection.execute("RELEASE SAVEPOINT bh_sms_call");
  return result;
}

}  // namespace

store::Connection* GroupCommitDatabase::joined() const {
  return owner_.load() == std::this_thread::get_id() ? open_ : nullptr;
}

Status GroupCommitDatabase::transaction(const std::function<Status(store::Connection&)>& fn) {
  if (store::Connection* open = joined()) return in_savepoint(*open, fn);
  return shared_->transaction(fn);
}

Result<store::Rows> GroupCommitDatabase::query(std::string_view sql, const store::Params& params) {
  store::Connection* open = joined();
  if (!open) return shared_->query(sql, params);
  store::Rows rows;
  Status done = in_savepoint(*open, [&](store::Connection& c) -> Status {
    auto result = c.query(sql, params);
    if (!result) return result.error();
    rows = std::move(*result);
    return ok_status();
  });
  if (!done) return done.error();
  return rows;
}

Result<std::int64_t> GroupCommitDatabase::execute(std::string_view sql,
                                                  const store::Params& params) {
  store::Connection* open = joined();
  if (!open) return shared_->execute(sql, params);
  std::int64_t changed = 0;
  Status done = in_savepoint(*open, [&](store::Connection& c) -> Status {
    auto result = c.execute(sql, params);
    if (!result) return result.error();
    changed = *result;
    return ok_status();
  });
  if (!done) return done.error();
  return changed;
}

Status GroupCommitDatabase::group(const std::function<void()>& fn) {
  if (joined()) return Error{"sms store: a group inside a group"};
  return shared_->transaction([&](store::Connection& connection) -> Status {
    open_ = &connection;
    owner_.store(std::this_thread::get_id());
    struct Close {
      GroupCommitDatabase& self;
      ~Close() {
        self.owner_.store(std::thread::id());
        self.open_ = nullptr;
      }
    } close{*this};
    fn();
    return ok_status();
  });
}

}  // namespace bh::connectors::sms
