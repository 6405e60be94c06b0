// A delivery attempt: a message loaded, its recipients handed to their
// connectors, their results made durable, and the outcome recorded.
#include <algorithm>
#include <atomic>
#include <mutex>

#include <boost/asio/post.hpp>

#include "scheduler/scheduler.hpp"
#include "scheduler/scheduler_internal.hpp"
#include "store/pending_store.hpp"
#include "trace/delivery_events.hpp"
#include "util/gateway_metrics.hpp"
#include "util/log.hpp"

namespace bh {
namespace {

using connectors::Outcome;
using connectors::outcome_name;
using connectors::RecipientResult;

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

}  // namespace bh
