// Pending recipients: what became of one that waits for a report, and the
// store entries of those a connector left pending.
#include <chrono>
#include <mutex>

#include "scheduler/scheduler.hpp"
#include "scheduler/scheduler_internal.hpp"
#include "store/pending_store.hpp"
#include "trace/delivery_events.hpp"
#include "util/gateway_metrics.hpp"
#include "util/log.hpp"

namespace bh {
namespace {

using Clock = std::chrono::system_clock;
using connectors::Outcome;
using connectors::outcome_name;
using connectors::RecipientResult;

bool printable_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c <= ' ' || c >= 0x7F) return false;
  return true;
}

}  // namespace

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

}  // namespace bh
