#include "scheduler/outcome.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "intake/pipeline.hpp"
#include "mail/dsn.hpp"
#include "mail/header_block.hpp"
#include "queue/inject.hpp"
#include "trace/delivery_events.hpp"
#include "util/crash_point.hpp"
#include "util/gateway_metrics.hpp"
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
  return DsnRecipient{r,
                      std::move(action),
                      result.status,
                      result.remote_mta,
                      result.diagnostic,
                      result.diagnostic_type,
                      result.report};
}

std::string_view kind_name(DsnKind kind) {
  return kind == DsnKind::failure ? "failure" : kind == DsnKind::delay ? "delay" : "success";
}

// Writes the DSN invisibly, commits it in the done log, then places it in
// incoming/: a crash before the commit makes it again, one after keeps it.
Status place_dsn(const queue::Spool& spool, queue::DoneLog& done_log, const Envelope& original,
                 DsnKind kind, const Envelope& envelope, std::string_view content,
                 std::vector<std::size_t> covers) {
  if (auto written = queue::write_pending(spool, envelope, content); !written) return written;
  crash_point("outcome.dsn_written");
  queue::DoneRecord commit;
  commit.id = original.queue_id;
  commit.generation = original.generation;
  commit.dsn_kind = kind_name(kind);
  commit.dsn_id = envelope.queue_id;
  commit.covers = std::move(covers);
  if (auto committed = done_log.append_and_wait({commit}); !committed) {
    ::unlink(queue::pending_path(spool, envelope.queue_id).c_str());
    return committed;
  }
  crash_point("outcome.dsn_committed");
  if (auto placed = queue::place_pending(spool, envelope.queue_id); !placed) return placed;
  crash_point("outcome.dsn_placed");
  return ok_status();
}

// What the connectors kept for a success report (Connector::report_attachment):
// asked for only now, by the pending reference the queue file carries, so
// that no queue file, done record or pending entry holds the bytes. One
// copy of each (a mail rendered once for several numbers has one page
// one), within kMaxReportAttachmentBytes. None when the sender asked for
// headers only (RET=HDRS). Each ask blocks this thread (a fax connector's
// store: one statement, none while that store is paused after a failure).
std::vector<DsnAttachment> report_attachments(
    const OutcomeSettings& settings, const queue::QueuedMessage& message,
    const std::vector<std::pair<std::size_t, DsnRecipient>>& lines, const queue::Marks& marks) {
  std::vector<DsnAttachment> attachments;
  if (!settings.connector || message.envelope.ret == DsnReturn::headers) return attachments;
  std::size_t total = 0;
  for (const auto& [index, line] : lines) {
    const Recipient& r = message.envelope.recipients[index];
    if (r.pending_reference.empty() || marks.reported(kind_name(DsnKind::success), index)) continue;
    connectors::Connector* connector = settings.connector(r.connector);
    if (connector == nullptr) continue;
    std::optional<connectors::Connector::ReportAttachment> kept =
        connector->report_attachment(r.pending_reference);
    if (!kept) continue;
    if (std::any_of(attachments.begin(), attachments.end(),
                    [&](const DsnAttachment& a) { return a.bytes == kept->bytes; }))
      continue;
    if (total + kept->bytes.size() > kMaxReportAttachmentBytes) {
      log::Line("dsn_attachment_left_out")
          .kv("id", message.envelope.queue_id)
          .kv("to", r.address.text())
          .kv("bytes", kept->bytes.size())
          .kv("reason", "the report's attachments would pass " +
                            std::to_string(kMaxReportAttachmentBytes) + " bytes")
          .write(log::Level::warn);
      continue;
    }
    total += kept->bytes.size();
    attachments.push_back({std::move(kept->content_type), std::move(kept->filename),
                           std::move(kept->description), std::move(kept->bytes)});
  }
  return attachments;
}

// The final pending deliveries of this attempt, once their DSNs are placed
// (or not wanted): their connectors may drop what they kept for them.
// `unreported`: recipients of a success report that could not be placed,
// whose thumbnails stay (the connector's purge takes them later).
void release_reports(const OutcomeSettings& settings, const queue::QueuedMessage& message,
                     const std::vector<connectors::RecipientResult>& results,
                     const std::vector<std::size_t>& unreported) {
  if (!settings.connector) return;
  for (std::size_t i = 0; i < message.envelope.recipients.size(); ++i) {
    const Recipient& r = message.envelope.recipients[i];
    if (r.pending_reference.empty() ||
        (results[i].outcome != Outcome::delivered && results[i].outcome != Outcome::bounced) ||
        std::find(unreported.begin(), unreported.end(), i) != unreported.end())
      continue;
    if (connectors::Connector* connector = settings.connector(r.connector))
      connector->report_written(r.pending_reference);
  }
}

// Places one DSN in incoming/ and says whether it could (failures are logged).
// Recipients (by index) that a committed DSN of this kind already reports
// for this generation are left out; with none left, no DSN is made.
bool send_dsn(const queue::Spool& spool, queue::DoneLog& done_log, const queue::Marks& marks,
              const OutcomeSettings& settings, DsnKind kind, const queue::QueuedMessage& message,
              std::vector<std::pair<std::size_t, DsnRecipient>> lines,
              const std::function<std::string()>& make_queue_id, RecordedOutcome& outcome) {
  std::vector<DsnAttachment> attachments;
  if (kind == DsnKind::success) attachments = report_attachments(settings, message, lines, marks);
  std::vector<DsnRecipient> recipients;
  std::vector<std::size_t> covers;
  for (auto& [index, line] : lines) {
    if (marks.reported(kind_name(kind), index)) continue;
    covers.push_back(index);
    recipients.push_back(std::move(line));
  }
  if (recipients.empty()) return true;
  DsnRequest request;
  request.kind = kind;
  request.original = &message.envelope;
  request.original_content = message.content;
  request.recipients = std::move(recipients);
  request.reporting_host = settings.hostname;
  request.now = now_seconds();
  request.will_retry_until = message.envelope.arrival + settings.max_lifetime.count();
  request.attachments = std::move(attachments);
  std::string id = make_queue_id();
  Envelope envelope = dsn_envelope(request, id);
  envelope.tenant = message.envelope.tenant;
  std::string content = build_dsn(request, id);
  if (settings.policy != nullptr) {
    intake::Pipeline pipeline(settings.policy->current());
    std::size_t header_size = header_size_of(content);
    intake::MessageDecision decision =
        pipeline.message(intake::Origin{intake::Source::local}, envelope, content, header_size,
                         content.size(), request.now);
    // A DSN to a service (a fax address): never sent, and never bounced.
    if (decision.discard) {
      log::Line("dsn_discarded")
          .kv("id", message.envelope.queue_id)
          .kv("kind", kind_name(kind))
          .kv("to", message.envelope.sender.text())
          .kv("reason", decision.trace.empty() ? "" : decision.trace.back().verdict.reason)
          .write(log::Level::warn);
      return true;
    }
    // Placed all the same: what the scheduler cannot route waits in hold/.
    if (!decision.verdict.accepted)
      log::Line("dsn_intake")
          .kv("id", message.envelope.queue_id)
          .kv("dsn_id", id)
          .kv("refused", decision.verdict.reason)
          .write(log::Level::warn);
  }
  auto placed =
      place_dsn(spool, done_log, message.envelope, kind, envelope, content, std::move(covers));
  log::Line("dsn")
      .kv("id", message.envelope.queue_id)
      .kv("dsn_id", id)
      .kv("kind", kind_name(kind))
      .kv("to", message.envelope.sender.text())
      .kv("rcpts", request.recipients.size())
      .kv("result", placed ? "queued" : "failed")
      .kv("reason", placed ? "" : placed.error().message)
      .write(placed ? log::Level::info : log::Level::error);
  if (placed) outcome.new_messages.push_back(id);
  if (placed && settings.trace) {
    settings.trace->record(
        trace::dsn_event(message.envelope, kind_name(kind), id, request.recipients.size()));
    settings.trace->record(
        trace::dsn_made_event(envelope, kind_name(kind), message.envelope.queue_id));
  }
  return placed.ok();
}

}  // namespace

RecordedOutcome record_outcome(const queue::Spool& spool, queue::DoneLog& done_log,
                               const OutcomeSettings& settings, const queue::QueuedMessage& message,
                               const std::vector<connectors::RecipientResult>& results,
                               const std::function<std::string()>& make_queue_id) {
  queue::Marks marks = done_log.marks(message.envelope.queue_id, message.envelope.generation);
  RecordedOutcome outcome;
  const Envelope& envelope = message.envelope;
  const std::string& id = envelope.queue_id;
  bool null_sender = envelope.sender.null();
  bool expired = now_seconds() - envelope.arrival > settings.max_lifetime.count();

  std::vector<std::pair<std::size_t, DsnRecipient>> failed, succeeded;
  std::vector<Recipient> remaining;
  std::vector<const connectors::RecipientResult*> remaining_results;
  std::vector<Recipient> waiting;  // pending at a foreign system
  bool newly_pending = false;
  bool keep_bounced_in_hold = false;
  std::string hold_reason = "delivery status notification refused; held for the administrator";
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    const Recipient& r = envelope.recipients[i];
    connectors::RecipientResult result = results[i];
    if (result.outcome == Outcome::deferred && expired) {
      result.outcome = Outcome::bounced;
      result.status = "4.4.7";
      result.diagnostic = "message expired after " + std::to_string(settings.max_lifetime.count()) +
                          " seconds in the queue; last error: " + result.diagnostic;
      metrics::gateway_metrics().message("expired");
      if (settings.trace)
        settings.trace->record(
            trace::expired_event(envelope, i, r.connector, result.status, result.diagnostic));
    }
    switch (result.outcome) {
      case Outcome::delivered:
        // result.report: the connector reports success always (a fax's
        // pages and remote station), unless the recipient said NOTIFY=NEVER
        // (or there is nobody to tell).
        if (!result.success_action.empty() &&
            (dsn_wanted(r, DsnKind::success) ||
             (result.report && !null_sender && !(r.notify & notify_never))))
          succeeded.emplace_back(i, dsn_line(r, result, result.success_action));
        break;
      case Outcome::bounced:
        // A DSN itself is never bounced back: it waits in hold/ instead.
        if (null_sender) {
          keep_bounced_in_hold = true;
          remaining.push_back(r);
          remaining_results.push_back(&results[i]);
        } else if (dsn_wanted(r, DsnKind::failure)) {
          failed.emplace_back(i, dsn_line(r, result, "failed"));
        }
        break;
      case Outcome::pending: {
        Recipient w = r;
        if (w.pending_reference != result.reference) {
          w.pending_reference = result.reference;
          w.pending_deadline = result.pending_deadline;
          if (!result.pending_connector.empty()) w.connector = result.pending_connector;
          newly_pending = true;
        }
        waiting.push_back(std::move(w));
        break;
      }
      case Outcome::deferred:
        if (result.hold) {
          keep_bounced_in_hold = true;
          hold_reason = result.diagnostic;
        }
        remaining.push_back(r);
        remaining_results.push_back(&results[i]);
        break;
    }
  }
  std::vector<Recipient> failed_recipients;
  for (const auto& f : failed) failed_recipients.push_back(f.second.recipient);
  if (!send_dsn(spool, done_log, marks, settings, DsnKind::failure, message, std::move(failed),
                make_queue_id, outcome)) {
    // Without its report a refused recipient would vanish: keep it, in hold/.
    keep_bounced_in_hold = true;
    remaining.insert(remaining.end(), failed_recipients.begin(), failed_recipients.end());
  }
  // Should the success report not be placed, its recipients keep what was kept for it.
  std::vector<std::size_t> unplaced;
  for (const auto& s : succeeded) unplaced.push_back(s.first);
  if (send_dsn(spool, done_log, marks, settings, DsnKind::success, message, std::move(succeeded),
               make_queue_id, outcome))
    unplaced.clear();
  release_reports(settings, message, results, unplaced);

  // Waiting recipients go last: the deferred ones at the front of
  // remaining parallel remaining_results (the delay DSN below).
  std::int64_t first_deadline = 0;
  for (const Recipient& w : waiting)
    if (first_deadline == 0 || w.pending_deadline < first_deadline)
      first_deadline = w.pending_deadline;
  bool only_waiting = remaining.empty() && !waiting.empty();
  remaining.insert(remaining.end(), waiting.begin(), waiting.end());

  auto active_path = spool.file(queue::State::active, id);
  if (remaining.empty()) {
    // Not synced: should the unlink be lost, the done log still says every
    // recipient is done, and the next attempt only finishes it.
    ::unlink(active_path.c_str());
    crash_point("outcome.rewritten");
    done_log.forget(id);
    outcome.disposition = Disposition::delivered;
    return outcome;
  }

  Envelope updated = envelope;
  // A new generation whenever results were recorded for this one, so that
  // they no longer apply to the recipients left (their indexes change).
  bool changed = remaining.size() != envelope.recipients.size() || !marks.results.empty() ||
                 !marks.dsns.empty() || keep_bounced_in_hold || newly_pending;
  updated.recipients = remaining;
  updated.generation = envelope.generation + 1;
  bool old_enough = now_seconds() - envelope.arrival >= settings.delay_warning.count();
  if (!keep_bounced_in_hold && !envelope.delay_warned && old_enough && !null_sender) {
    std::vector<std::pair<std::size_t, DsnRecipient>> delayed;
    // remaining_results parallels the deferred recipients at the front of remaining.
    for (std::size_t k = 0; k < remaining_results.size(); ++k)
      if (dsn_wanted(remaining[k], DsnKind::delay))
        delayed.emplace_back(static_cast<std::size_t>(remaining_results[k] - results.data()),
                             dsn_line(remaining[k], *remaining_results[k], "delayed"));
    send_dsn(spool, done_log, marks, settings, DsnKind::delay, message, std::move(delayed),
             make_queue_id, outcome);
    updated.delay_warned = true;
    changed = true;
  }

  queue::State target = keep_bounced_in_hold ? queue::State::hold : queue::State::deferred;
  bool rewritten_ok = true;
  if (changed) {
    // Replaced in active/ first, then moved: there is never a second file
    // with the same id in another folder.
    auto rewritten = queue::rewrite(spool, queue::State::active, updated, message.content);
    if (!rewritten) {
      // Keep the old file (and its records): a repeat is better than a loss.
      log::Line("queue_error")
          .kv("id", id)
          .kv("reason", rewritten.error().message)
          .write(log::Level::error);
      rewritten_ok = false;
      outcome.durable = false;
    }
    crash_point("outcome.rewritten");
  }
  if (spool.move(id, queue::State::active, target) != queue::MoveResult::moved) {
    outcome.disposition = Disposition::gone;
    return outcome;
  }
  if (rewritten_ok) done_log.forget(id);
  if (target == queue::State::hold) {
    log::Line("message_held").kv("id", id).kv("reason", hold_reason).write(log::Level::warn);
    outcome.disposition = Disposition::held;
    return outcome;
  }
  // The next attempt: the backoff, or sooner when a pending recipient's
  // wait ends (a report wakes the message earlier: pending_reports.hpp).
  std::int64_t next = now_seconds() + backoff(settings, envelope.arrival).count();
  if (first_deadline > 0 && (only_waiting || first_deadline < next)) next = first_deadline;
  // A deadline that passed already (the store could not be read): not at once again.
  next = std::max(next, now_seconds() + std::min<std::int64_t>(settings.retry_delay.count(), 60));
  set_mtime(spool.file(queue::State::deferred, id), next);
  outcome.disposition = Disposition::deferred;
  return outcome;
}

}  // namespace bh
