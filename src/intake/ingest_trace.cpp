#include "intake/ingest_trace.hpp"

#include "mail/header_block.hpp"

namespace bh::intake {
namespace {

void add_envelope(const Submission& submission, trace::TraceEvent& event) {
  const Envelope& envelope = submission.envelope;
  event.sender = envelope.sender.text();
  event.tenant = envelope.tenant;
  for (const Recipient& r : envelope.recipients) event.recipients.push_back(r.address.text());
}

}  // namespace

trace::TraceEvent received_event(const Submission& submission, std::size_t header_size) {
  trace::TraceEvent event;
  event.message_id = submission.envelope.queue_id;
  event.kind = trace::Kind::received;
  event.stage = "queue";
  event.code = 250;
  event.enhanced = "2.0.0";
  event.detail = "queued as " + submission.envelope.queue_id;
  add_envelope(submission, event);
  HeaderBlock header(std::string_view(submission.content).substr(0, header_size));
  event.subject = header.first_unfolded("Subject", trace::kSummaryFieldBytes);
  event.facts.emplace_back("source", std::string(source_name(submission.origin.source)));
  for (const auto& fact : submission.trace_facts) event.facts.push_back(fact);
  event.facts.emplace_back("size", std::to_string(submission.content.size()));
  if (std::string message_id = header.first_unfolded("Message-ID", trace::kSummaryFieldBytes);
      !message_id.empty())
    event.facts.emplace_back("message_id", message_id);
  return event;
}

trace::TraceEvent decision_event(const Submission& submission, const TraceEntry& entry) {
  trace::TraceEvent event;
  event.message_id = submission.envelope.queue_id;
  event.kind = trace::decision_kind(entry.stage);
  event.stage = entry.stage;
  event.recipient = entry.recipient;
  event.tenant = entry.tenant;
  event.code = entry.verdict.accepted ? 0 : entry.verdict.code;
  event.enhanced = entry.verdict.enhanced;
  event.detail = entry.verdict.reason;
  event.facts.emplace_back("result", entry.verdict.accepted ? "accepted" : "refused");
  if (!entry.verdict.accepted) event.facts.emplace_back("reply", entry.verdict.reply);
  return event;
}

trace::TraceEvent refused_event(const Submission& submission, std::string_view stage,
                                const Verdict& verdict) {
  trace::TraceEvent event;
  event.message_id = submission.envelope.queue_id;
  event.kind = trace::Kind::refused;
  event.stage = std::string(stage);
  event.code = verdict.code;
  event.enhanced = verdict.enhanced;
  event.detail = verdict.reply;
  add_envelope(submission, event);
  event.facts.emplace_back("source", std::string(source_name(submission.origin.source)));
  for (const auto& fact : submission.trace_facts) event.facts.push_back(fact);
  return event;
}

trace::TraceEvent commit_refused_event(trace::TraceEvent received, const Verdict& verdict) {
  trace::TraceEvent event = std::move(received);
  event.kind = trace::Kind::refused;
  event.time_ms = 0;  // the recorder stamps it: it happens now
  event.stage = "queue";
  event.code = verdict.code;
  event.enhanced = verdict.enhanced;
  event.detail = verdict.reply;
  return event;
}

}  // namespace bh::intake
