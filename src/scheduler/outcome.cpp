#include "scheduler/outcome.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>

#include "mail/dsn.hpp"
#include "queue/inject.hpp"
#include "util/log.hpp"

namespace bh {
namespace {

using Clock = std::chrono::system_clock;
using connectors::Outcome;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

// Postfix's rule: wait as long as the message is old, within bounds.
std::chrono::seconds backoff(const OutcomeSettings& s, std::int64_t arrival) {
  return std::clamp(std::chrono::seconds(now_seconds() - arrival), s.retry_delay,
                    s.max_retry_delay);
}

void set_mtime(const std::filesystem::path& path, std::int64_t when) {
  timeval times[2] = {{static_cast<time_t>(when), 0}, {static_cast<time_t>(when), 0}};
  ::utimes(path.c_str(), times);
}

DsnRecipient dsn_line(const Recipient& r, const connectors::RecipientResult& result,
                      std::string action) {
  return DsnRecipient{r, std::move(action), result.status, result.remote_mta, result.diagnostic};
}

// Places one DSN in incoming/ and says whether it could (failures are logged).
bool send_dsn(const queue::Spool& spool, const OutcomeSettings& settings, DsnKind kind,
              const queue::QueuedMessage& message, std::vector<DsnRecipient> recipients,
              const std::function<std::string()>& make_queue_id, RecordedOutcome& outcome) {
  if (recipients.empty()) return true;
  DsnRequest request;
  request.kind = kind;
  request.original = &message.envelope;
  request.original_content = message.content;
  request.recipients = std::move(recipients);
  request.reporting_host = settings.hostname;
  request.now = now_seconds();
  request.will_retry_until = message.envelope.arrival + settings.max_lifetime.count();
  std::string id = make_queue_id();
  Envelope envelope = dsn_envelope(request, id);
  std::string content = build_dsn(request, id);
  auto placed = queue::inject(spool, envelope, content);
  log::Line("dsn")
      .kv("id", message.envelope.queue_id)
      .kv("dsn_id", id)
      .kv("kind", kind == DsnKind::failure ? "failure"
                  : kind == DsnKind::delay ? "delay"
                                           : "success")
      .kv("to", message.envelope.sender.text())
      .kv("rcpts", request.recipients.size())
      .kv("result", placed ? "queued" : "failed")
      .kv("reason", placed ? "" : placed.error().message)
      .write(placed ? log::Level::info : log::Level::error);
  if (placed) outcome.new_messages.push_back(id);
  return placed.ok();
}

}  // namespace

RecordedOutcome record_outcome(const queue::Spool& spool, const OutcomeSettings& settings,
                               const queue::QueuedMessage& message,
                               const std::vector<connectors::RecipientResult>& results,
                               const std::function<std::string()>& make_queue_id) {
  RecordedOutcome outcome;
  const Envelope& envelope = message.envelope;
  const std::string& id = envelope.queue_id;
  bool null_sender = envelope.sender.null();
  bool expired = now_seconds() - envelope.arrival > settings.max_lifetime.count();

  std::vector<DsnRecipient> failed, succeeded;
  std::vector<Recipient> remaining;
  std::vector<const connectors::RecipientResult*> remaining_results;
  bool keep_bounced_in_hold = false;
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    const Recipient& r = envelope.recipients[i];
    connectors::RecipientResult result = results[i];
    if (result.outcome == Outcome::deferred && expired) {
      result.outcome = Outcome::bounced;
      result.status = "4.4.7";
      result.diagnostic = "message expired after " + std::to_string(settings.max_lifetime.count()) +
                          " seconds in the queue; last error: " + result.diagnostic;
    }
    switch (result.outcome) {
      case Outcome::delivered:
        if (!result.success_action.empty() && dsn_wanted(r, DsnKind::success))
          succeeded.push_back(dsn_line(r, result, result.success_action));
        break;
      case Outcome::bounced:
        // A DSN itself is never bounced back: it waits in hold/ instead.
        if (null_sender) {
          keep_bounced_in_hold = true;
          remaining.push_back(r);
          remaining_results.push_back(&results[i]);
        } else if (dsn_wanted(r, DsnKind::failure)) {
          failed.push_back(dsn_line(r, result, "failed"));
        }
        break;
      case Outcome::deferred:
        remaining.push_back(r);
        remaining_results.push_back(&results[i]);
        break;
    }
  }
  std::vector<Recipient> failed_recipients;
  for (const DsnRecipient& f : failed) failed_recipients.push_back(f.recipient);
  if (!send_dsn(spool, settings, DsnKind::failure, message, std::move(failed), make_queue_id,
                outcome)) {
    // Without its report a refused recipient would vanish: keep it, in hold/.
    keep_bounced_in_hold = true;
    remaining.insert(remaining.end(), failed_recipients.begin(), failed_recipients.end());
  }
  send_dsn(spool, settings, DsnKind::success, message, std::move(succeeded), make_queue_id,
           outcome);

  auto active_path = spool.file(queue::State::active, id);
  if (remaining.empty()) {
    ::unlink(active_path.c_str());
    outcome.disposition = Disposition::delivered;
    return outcome;
  }

  Envelope updated = envelope;
  bool changed = remaining.size() != envelope.recipients.size();
  updated.recipients = remaining;
  bool old_enough = now_seconds() - envelope.arrival >= settings.delay_warning.count();
  if (!keep_bounced_in_hold && !envelope.delay_warned && old_enough && !null_sender) {
    std::vector<DsnRecipient> delayed;
    // remaining_results parallels the deferred recipients at the front of remaining.
    for (std::size_t k = 0; k < remaining_results.size(); ++k)
      if (dsn_wanted(remaining[k], DsnKind::delay))
        delayed.push_back(dsn_line(remaining[k], *remaining_results[k], "delayed"));
    send_dsn(spool, settings, DsnKind::delay, message, std::move(delayed), make_queue_id, outcome);
    updated.delay_warned = true;
    changed = true;
  }

  queue::State target = keep_bounced_in_hold ? queue::State::hold : queue::State::deferred;
  if (changed) {
    auto rewritten = queue::rewrite(spool, target, updated, message.content);
    if (!rewritten) {
      // Keep the old file: a repeated delivery is better than a lost one.
      log::Line("queue_error")
          .kv("id", id)
          .kv("reason", rewritten.error().message)
          .write(log::Level::error);
      spool.move(id, queue::State::active, target);
    } else {
      ::unlink(active_path.c_str());
    }
  } else if (spool.move(id, queue::State::active, target) != queue::MoveResult::moved) {
    outcome.disposition = Disposition::gone;
    return outcome;
  }
  if (target == queue::State::hold) {
    log::Line("message_held")
        .kv("id", id)
        .kv("reason", "delivery status notification refused; held for the administrator")
        .write(log::Level::warn);
    outcome.disposition = Disposition::held;
    return outcome;
  }
  set_mtime(spool.file(queue::State::deferred, id),
            now_seconds() + backoff(settings, envelope.arrival).count());
  outcome.disposition = Disposition::deferred;
  return outcome;
}

}  // namespace bh
