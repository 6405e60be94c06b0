#include "scheduler/scheduler.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include <boost/asio/post.hpp>

#include "store/pending_store.hpp"
#include "trace/delivery_events.hpp"
#include "util/gateway_metrics.hpp"
#include "util/log.hpp"

namespace bh {
namespace {

using Clock = std::chrono::system_clock;
using connectors::Outcome;
using connectors::RecipientResult;

bool printable_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c <= ' ' || c >= 0x7F) return false;
  return true;
}

using connectors::outcome_name;

RecipientResult from_final(const queue::FinalResult& f) {
  RecipientResult r{f.delivered ? Outcome::delivered : Outcome::bounced, f.status, f.diagnostic,
                    f.remote_mta, f.success_action};
  r.diagnostic_type = f.diagnostic_type;
  return r;
}

queue::DoneRecord final_record(const Envelope& envelope, std::size_t index,
                               const RecipientResult& r) {
  queue::DoneRecord record;
  record.id = envelope.queue_id;
  record.generation = envelope.generation;
  record.index = index;
  record.result = {r.outcome == Outcome::delivered,
                   r.status,
                   r.remote_mta,
                   r.success_action,
                   r.diagnostic,
                   r.diagnostic_type};
  return record;
}

}  // namespace

// One delivery attempt of one message, possibly across several connectors.
struct Scheduler::Attempt {
  std::shared_ptr<const queue::QueuedMessage> message;
  std::vector<RecipientResult> results;
  std::mutex mutex;
  std::atomic<std::size_t> outstanding{0};
  // Reports applied in this attempt: removed from the store once the
  // outcome is recorded (connector, reference).
  std::vector<std::pair<std::string, std::string>> applied_reports;
  bool reports_durable = true;
};

Scheduler::Scheduler(const queue::Spool& spool, queue::DoneLog& done_log,
                     const PolicyHolder& policy, const connectors::Registry& registry,
                     SchedulerSettings settings)
    : spool_(spool),
      done_log_(done_log),
      policy_(policy),
      registry_(registry),
      settings_(std::move(settings)),
      scan_timer_(io_),
      deferred_timer_(io_),
      pool_(settings_.pool_threads) {
  settings_.outcome.policy = &policy_;
  if (settings_.outcome.trace == nullptr) settings_.outcome.trace = settings_.trace;
  // Success reports ask the connectors for what they kept (a fax's page one).
  if (!settings_.outcome.connector)
    settings_.outcome.connector = [this](const std::string& name) { return registry_.find(name); };
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  boost::asio::post(io_, [this] {
    scan_incoming();
    load_deferred();
    schedule_scan();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void Scheduler::stop() {
  if (!thread_.joinable()) return;
  pool_.join();  // running attempts record their outcome first
  io_.stop();
  thread_.join();
}

void Scheduler::message_arrived(const std::string& id) {
  boost::asio::post(io_, [this, id] {
    enqueue(id);
    pump();
  });
}

void Scheduler::enqueue(const std::string& id) {
  if (known_.insert(id).second) ready_.push_back(id);
}

void Scheduler::scan_incoming() {
  for (const std::string& id : spool_.list(queue::State::incoming)) enqueue(id);
  pump();
}

void Scheduler::schedule_scan() {
  scan_timer_.expires_after(settings_.incoming_scan);
  scan_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    scan_incoming();
    schedule_scan();
  });
}

void Scheduler::load_deferred() {
  for (const std::string& id : spool_.list(queue::State::deferred)) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) != 0) continue;
    deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
  }
  update_counts();
  arm_deferred_timer();
}

void Scheduler::arm_deferred_timer() {
  if (deferred_.empty()) return;
  auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      deferred_.begin()->first - Clock::now());
  deferred_timer_.expires_after(std::max(wait, std::chrono::steady_clock::duration::zero()));
  deferred_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) deferred_due();
  });
}

void Scheduler::deferred_due() {
  auto now = Clock::now();
  while (!deferred_.empty() && deferred_.begin()->first <= now) {
    std::string id = deferred_.begin()->second;
    deferred_.erase(deferred_.begin());
    // Gone means an administrator moved or deleted it meanwhile.
    if (spool_.move(id, queue::State::deferred, queue::State::incoming) == queue::MoveResult::moved)
      enqueue(id);
  }
  arm_deferred_timer();
  pump();
}

void Scheduler::pause() {
  boost::asio::post(io_, [this] { paused_ = true; });
}

void Scheduler::pump() {
  while (!paused_ && active_ < settings_.active_limit && !ready_.empty()) {
    const std::string& next = ready_.front();
    struct stat info;
    if (::stat(spool_.file(queue::State::incoming, next).c_str(), &info) != 0) {
      known_.erase(next);  // held, deleted or already taken
      ready_.pop_front();
      continue;
    }
    // Messages in delivery are held in memory: bound their bytes too. One
    // message alone is always admitted, however large.
    std::size_t size = static_cast<std::size_t>(info.st_size);
    if (active_ > 0 && active_bytes_ + size > settings_.active_bytes_limit) break;
    std::string id = std::move(ready_.front());
    ready_.pop_front();
    if (spool_.move(id, queue::State::incoming, queue::State::active) != queue::MoveResult::moved) {
      known_.erase(id);
      continue;
    }
    ++active_;
    ++in_delivery_;
    active_bytes_ += size;
    active_sizes_[id] = size;
    boost::asio::post(pool_, [this, id] { start_attempt(id); });
  }
  update_counts();
}

// On the pool: load the message and hand each connector its recipients.
void Scheduler::start_attempt(const std::string& id) {
  auto loaded = spool_.load(queue::State::active, id);
  if (loaded && loaded->envelope.queue_id != id)
    loaded = Error{"the file's queue id is not its name"};
  if (!loaded) {
    spool_.move(id, queue::State::active, queue::State::corrupt);
    log::Line("delivery")
        .kv("id", id)
        .kv("result", "corrupt")
        .kv("reason", loaded.error().message)
        .write(log::Level::error);
    boost::asio::post(io_, [this, id] { finished(id, RecordedOutcome{}); });
    return;
  }
  auto attempt = std::make_shared<Attempt>();
  attempt->message = std::make_shared<const queue::QueuedMessage>(std::move(*loaded));
  const Envelope& envelope = attempt->message->envelope;
  attempt->results.resize(envelope.recipients.size());
  // Recipients the done log has a final result for (an attempt cut short
  // by a crash) are not delivered again.
  queue::Marks marks = done_log_.marks(id, envelope.generation);
  for (const auto& [index, final_result] : marks.results)
    if (index < attempt->results.size()) attempt->results[index] = from_final(final_result);

  std::shared_ptr<const PolicySet> policy = policy_.current();
  std::map<std::string, std::vector<std::size_t>> by_connector;
  std::vector<queue::DoneRecord> reported;  // pending recipients whose wait is over
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    if (marks.results.contains(i)) continue;
    if (!envelope.recipients[i].pending_reference.empty()) {
      attempt->results[i] = pending_result(envelope.recipients[i], *attempt);
      if (attempt->results[i].outcome != Outcome::pending)
        reported.push_back(final_record(envelope, i, attempt->results[i]));
      continue;
    }
    // A transport rule's choice, kept with the recipient; else the routing
    // table now, for the tenant and inbound connector the message came with.
    const Recipient& recipient = envelope.recipients[i];
    std::string connector = recipient.connector;
    RouteScope scope{envelope.client.inbound_connector, envelope.tenant, true};
    if (connector.empty())
      if (const Route* route = policy->routes.find(recipient.address, scope))
        connector = route->connector;
    if (connector.empty() || registry_.find(connector) == nullptr) {
      // A reload removed the route: the administrator decides, not a bounce.
      RecipientResult held{
          Outcome::deferred, "4.3.5",
          connector.empty()
              ? "no route for " + recipient.address.domain_key() +
                    " any more (removed by a reload); held for the administrator"
              : "connector " + connector + " does not exist any more; held for the administrator"};
      held.hold = true;
      attempt->results[i] = held;
      continue;
    }
    by_connector[connector].push_back(i);
    if (settings_.trace)
      settings_.trace->record(
          trace::route_event(envelope, i, connector, !recipient.connector.empty()));
  }
  if (!reported.empty()) {
    // Durable before the outcome, like a connector's results.
    if (Status recorded = done_log_.append_and_wait(std::move(reported)); !recorded) {
      log::Line("queue_error")
          .kv("id", id)
          .kv("reason", recorded.error().message)
          .write(log::Level::error);
      attempt->reports_durable = false;  // kept in the store for the next attempt
    }
  }
  // +1 guards against finishing before every connector has been called.
  attempt->outstanding = by_connector.size() + 1;
  for (auto& [name, indexes] : by_connector) {
    connectors::Connector* connector = registry_.find(name);
    connectors::DeliveryRequest request{attempt->message, indexes};
    auto handed_over = std::chrono::steady_clock::now();
    auto done = [this, attempt, indexes, name, connector,
                 handed_over](std::vector<RecipientResult> results) {
      auto took = std::chrono::steady_clock::now() - handed_over;
      std::int64_t took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
      metrics::GatewayMetrics& m = metrics::gateway_metrics();
      metrics::Histogram& latency = m.delivery_seconds.with({name});
      std::vector<queue::DoneRecord> records;
      {
        std::lock_guard lock(attempt->mutex);
        for (std::size_t k = 0; k < indexes.size(); ++k) {
          attempt->results[indexes[k]] =
              k < results.size() ? std::move(results[k])
                                 : RecipientResult{Outcome::deferred, "4.3.0",
                                                   "connector " + name + " gave no result"};
          const RecipientResult& r = attempt->results[indexes[k]];
          log::Line("delivery")
              .kv("id", attempt->message->envelope.queue_id)
              .kv("to", attempt->message->envelope.recipients[indexes[k]].address.text())
              .kv("connector", name)
              .kv("result", outcome_name(r.outcome))
              .kv("status", r.status)
              .kv("remote", r.remote_mta)
              .kv("detail", r.diagnostic)
              .write();
          latency.observe(std::chrono::duration<double>(took).count());
          m.message(outcome_name(r.outcome));
          const Envelope& envelope = attempt->message->envelope;
          if (settings_.trace) {
            settings_.trace->record(trace::attempt_event(envelope, indexes[k], name, r, took_ms));
            if (r.outcome == Outcome::delivered || r.outcome == Outcome::bounced)
              settings_.trace->record(trace::final_event(envelope, indexes[k], name, r, "attempt"));
          }
          if (r.outcome == Outcome::delivered || r.outcome == Outcome::bounced)
            records.push_back(final_record(attempt->message->envelope, indexes[k], r));
        }
      }
      bool any_delivered =
          std::any_of(records.begin(), records.end(),
                      [](const queue::DoneRecord& r) { return r.result.delivered; });
      auto continue_attempt = [this, attempt, connector, any_delivered, indexes, name](Status) {
        // Not durable (logged by the done log): the outcome is still recorded
        // below; only a crash before then would repeat these recipients.
        boost::asio::post(pool_, [this, attempt, connector, any_delivered, indexes, name] {
          record_pending(*attempt, name, indexes);
          if (any_delivered && connector != nullptr)
            connector->results_recorded(attempt->message->envelope, indexes);
          if (--attempt->outstanding == 0) finish_attempt(attempt);
        });
      };
      if (records.empty())
        continue_attempt(ok_status());
      else
        done_log_.append(std::move(records), std::move(continue_attempt));
    };
    if (connector == nullptr) {
      done(connectors::same_for_all(
          request, {Outcome::deferred, "4.3.5", "connector " + name + " is not configured"}));
    } else {
      connector->deliver(std::move(request), std::move(done));
    }
  }
  if (--attempt->outstanding == 0) finish_attempt(attempt);
}

// On the pool: what became of a recipient that waits for a report.
RecipientResult Scheduler::pending_result(const Recipient& recipient, Attempt& attempt) {
  const std::string& reference = recipient.pending_reference;
  RecipientResult waiting{Outcome::pending, "", "waiting for the report"};
  waiting.reference = reference;
  waiting.pending_connector = recipient.connector;
  waiting.pending_deadline = recipient.pending_deadline;
  if (settings_.pending != nullptr) {
    auto report = settings_.pending->resolution(recipient.connector, reference);
    if (!report) {
      log::Line("pending_error")
          .kv("reference", reference)
          .kv("reason", report.error().message)
          .write(log::Level::error);
      return waiting;  // asked again at the next attempt
    }
    if (*report) {
      const store::PendingResolution& r = **report;
      attempt.applied_reports.emplace_back(recipient.connector, reference);
      RecipientResult final{r.delivered ? Outcome::delivered : Outcome::bounced, r.status,
                            r.diagnostic, r.remote_mta, r.delivered ? "delivered" : ""};
      final.report = r.report;
      final.diagnostic_type = r.diagnostic_type;
      log::Line("pending_resolved")
          .kv("id", attempt.message->envelope.queue_id)
          .kv("to", recipient.address.text())
          .kv("connector", recipient.connector)
          .kv("reference", reference)
          .kv("result", outcome_name(final.outcome))
          .kv("status", final.status)
          .kv("detail", final.diagnostic)
          .write();
      metrics::gateway_metrics().message(outcome_name(final.outcome));
      if (settings_.trace) {
        const Envelope& envelope = attempt.message->envelope;
        std::size_t index = static_cast<std::size_t>(&recipient - envelope.recipients.data());
        settings_.trace->record(
            trace::final_event(envelope, index, recipient.connector, final, "report"));
      }
      return final;
    }
  }
  if (std::chrono::system_clock::to_time_t(Clock::now()) < recipient.pending_deadline)
    return waiting;
  attempt.applied_reports.emplace_back(recipient.connector, reference);
  RecipientResult expired{
      Outcome::bounced, "5.4.7",
      "no report from " + recipient.connector + " for " + reference + " within " +
          std::to_string(registry_.pending_timeout(recipient.connector).count()) +
          " seconds: the delivery may or may not have happened",
      ""};
  log::Line("pending_expired")
      .kv("id", attempt.message->envelope.queue_id)
      .kv("to", recipient.address.text())
      .kv("connector", recipient.connector)
      .kv("reference", reference)
      .write(log::Level::warn);
  metrics::gateway_metrics().message("expired");
  if (settings_.trace) {
    const Envelope& envelope = attempt.message->envelope;
    std::size_t index = static_cast<std::size_t>(&recipient - envelope.recipients.data());
    settings_.trace->record(trace::expired_event(envelope, index, recipient.connector,
                                                 expired.status, expired.diagnostic));
  }
  return expired;
}

// On the pool, as a connector's results arrive: pending ones are recorded
// in the store (durably) before the attempt's outcome is written, so a
// report that arrives at any node finds its message.
void Scheduler::record_pending(Attempt& attempt, const std::string& connector,
                               const std::vector<std::size_t>& indexes) {
  const Envelope& envelope = attempt.message->envelope;
  std::int64_t now = std::chrono::system_clock::to_time_t(Clock::now());
  std::lock_guard lock(attempt.mutex);
  for (std::size_t index : indexes) {
    RecipientResult& r = attempt.results[index];
    if (r.outcome != Outcome::pending) continue;
    std::string problem;
    if (r.reference.empty() || r.reference.size() > 200 || !printable_ascii(r.reference))
      problem = "the connector gave no usable reference";
    else if (settings_.pending == nullptr)
      problem = "no pending store";
    r.pending_connector = connector;
    r.pending_deadline = now + registry_.pending_timeout(connector).count();
    if (problem.empty()) {
      store::PendingEntry entry{connector,
                                r.reference,
                                settings_.node,
                                envelope.queue_id,
                                envelope.recipients[index].address.text(),
                                now,
                                r.pending_deadline};
      if (Status added = settings_.pending->add(entry); !added) problem = added.error().message;
    }
    if (problem.empty() && settings_.trace)
      settings_.trace->record(trace::pending_event(envelope, index, connector, r));
    if (!problem.empty()) {
      // Not durable as pending: delivered again later rather than lost.
      log::Line("pending_error")
          .kv("id", envelope.queue_id)
          .kv("reason", problem)
          .write(log::Level::error);
      r = RecipientResult{Outcome::deferred, "4.3.0", "pending result not recorded: " + problem};
    }
  }
}

void Scheduler::wake(const std::string& id) {
  boost::asio::post(io_, [this, id] {
    if (spool_.move(id, queue::State::deferred, queue::State::incoming) ==
        queue::MoveResult::moved) {
      enqueue(id);
      pump();
    }
  });
}

// On the pool: write down what happened.
void Scheduler::finish_attempt(const std::shared_ptr<Attempt>& attempt) {
  RecordedOutcome outcome = record_outcome(spool_, done_log_, settings_.outcome, *attempt->message,
                                           attempt->results, settings_.make_queue_id);
  std::string id = attempt->message->envelope.queue_id;
  // The reports are in the done log and the queue file now: done with them
  // (unless either write failed: then the next attempt applies them again).
  for (const auto& [connector, reference] : attempt->applied_reports)
    if (settings_.pending != nullptr && attempt->reports_durable && outcome.durable)
      if (Status removed = settings_.pending->remove(connector, reference); !removed)
        log::Line("pending_error")
            .kv("id", id)
            .kv("reason", removed.error().message)
            .write(log::Level::error);
  boost::asio::post(io_, [this, id, outcome = std::move(outcome)] { finished(id, outcome); });
}

void Scheduler::finished(const std::string& id, const RecordedOutcome& outcome) {
  --active_;
  --in_delivery_;
  if (auto it = active_sizes_.find(id); it != active_sizes_.end()) {
    active_bytes_ -= it->second;
    active_sizes_.erase(it);
  }
  known_.erase(id);
  for (const std::string& dsn : outcome.new_messages) enqueue(dsn);
  // A report's wake may have moved it back to incoming/ before we got here.
  struct stat moved;
  if (::stat(spool_.file(queue::State::incoming, id).c_str(), &moved) == 0) enqueue(id);
  if (outcome.disposition == Disposition::deferred) {
    struct stat info;
    if (::stat(spool_.file(queue::State::deferred, id).c_str(), &info) == 0)
      deferred_.emplace(Clock::from_time_t(info.st_mtime), id);
    deferred_timer_.cancel();
    arm_deferred_timer();
  }
  pump();
}

}  // namespace bh
