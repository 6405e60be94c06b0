#include "scheduler/pending_reports.hpp"

#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh {
namespace {

// Longer than any pending_timeout (at most 30 days).
constexpr std::int64_t kUnclaimedDays = 31;

}  // namespace

PendingReports::PendingReports(store::PendingStore& store, const queue::Spool& spool,
                               Scheduler& scheduler, std::string node,
                               std::chrono::milliseconds poll)
    : store_(store), spool_(spool), scheduler_(scheduler), node_(std::move(node)), poll_(poll) {}

PendingReports::~PendingReports() {
  stop();
}

bool PendingReports::resolve(const std::string& connector, const std::string& reference,
                             const connectors::RecipientResult& result) {
  bool delivered = result.outcome == connectors::Outcome::delivered;
  store::PendingResolution resolution{
      delivered,
      result.status.empty() ? (delivered ? "2.0.0" : "5.0.0") : result.status,
      result.diagnostic,
      result.remote_mta,
      delivered && result.report,
      result.diagnostic_type};
  if (Status stored = store_.resolve(connector, reference, resolution, unix_now()); !stored) {
    log::Line("pending_error")
        .kv("connector", connector)
        .kv("reference", reference)
        .kv("reason", stored.error().message)
        .write(log::Level::error);
    return false;
  }
  auto entry = store_.find(connector, reference);
  log::Line("pending_report")
      .kv("connector", connector)
      .kv("reference", reference)
      .kv("result", delivered ? "delivered" : "bounced")
      .kv("status", resolution.status)
      .kv("id", entry && *entry ? (*entry)->queue_id : "")
      .kv("node", entry && *entry ? (*entry)->node : "")
      .kv("detail", resolution.diagnostic)
      .write();
  // A message this node holds is attempted at once; another node's poll finds it.
  if (entry && *entry && (*entry)->node == node_ && !(*entry)->queue_id.empty())
    scheduler_.wake((*entry)->queue_id);
  return true;
}

void PendingReports::poll_once() {
  // Reports nobody claimed within kUnclaimedDays are forgotten.
  if (auto purged = store_.purge_unclaimed(unix_now() - kUnclaimedDays * 86400);
      purged && *purged > 0)
    log::Line("pending_purged").kv("unclaimed_reports", *purged).write();
  auto resolved = store_.resolved_for(node_);
  if (!resolved) {
    log::Line("pending_error").kv("reason", resolved.error().message).write(log::Level::error);
    return;
  }
  for (const store::ResolvedEntry& r : *resolved) {
    std::optional<queue::State> state = spool_.locate(r.entry.queue_id);
    bool waits = false;
    if (state && *state != queue::State::active) {
      std::size_t size = 0;
      auto envelope = spool_.load_envelope(*state, r.entry.queue_id, &size);
      if (!envelope) continue;  // being rewritten: the next poll looks again
      for (const Recipient& recipient : envelope->recipients)
        waits = waits || (recipient.pending_reference == r.entry.reference &&
                          recipient.connector == r.entry.connector);
    }
    if (state == queue::State::active) continue;  // in delivery: the next poll wakes it
    // Not found can mean "between two folders" (locate looks at one after
    // the other): only a message missing at two polls in a row is gone.
    std::string key = r.entry.connector + '\n' + r.entry.reference;
    if (!state && missing_.insert(key).second) continue;
    missing_.erase(key);
    if (!waits) {
      // Its message finished, or no longer waits for it (the report was applied).
      (void)store_.remove(r.entry.connector, r.entry.reference);
      continue;
    }
    if (*state == queue::State::deferred) scheduler_.wake(r.entry.queue_id);
  }
}

void PendingReports::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        poll_once();
      } catch (const std::exception& error) {
        log::Line("pending_error").kv("reason", error.what()).write(log::Level::error);
      }
      lock.lock();
      wake_.wait_for(lock, poll_, [this] { return stopping_; });
    }
  });
}

void PendingReports::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace bh
