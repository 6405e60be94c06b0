// The session's part of the message trace and the SMTP metrics: every
// decision, every refusal with the reply sent, and the accepted message
// with its client, identity and envelope (docs/api.md). Nothing here
// changes what the client is told.
#include <algorithm>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "smtp/server/session_machine.hpp"
#include "util/gateway_metrics.hpp"

namespace bh::smtp {
const std::string& SessionMachine::trace_id() {
  if (!draft_.envelope.queue_id.empty()) return draft_.envelope.queue_id;
  if (session_trace_id_.empty() && settings_.make_queue_id) {
    session_trace_id_ = settings_.make_queue_id();
    if (settings_.trace)
      for (trace::TraceEvent event : connection_decisions_) {
        event.message_id = session_trace_id_;
        settings_.trace->record(std::move(event));
      }
  }
  return session_trace_id_;
}

trace::TraceEvent SessionMachine::trace_event(trace::Kind kind, std::string_view stage) {
  trace::TraceEvent event;
  event.message_id = trace_id();
  event.kind = kind;
  event.stage = std::string(stage);
  return event;
}

void SessionMachine::trace_decision(std::string_view stage, const Verdict& verdict,
                                    std::string_view tenant) {
  if (!verdict.accepted) refusing_stage_ = std::string(stage);
  if (!settings_.trace) return;
  trace::TraceEvent event;
  event.kind = trace::decision_kind(stage);
  event.stage = std::string(stage);
  event.recipient = stage == "rcpt" || stage == "route" ? current_recipient_ : "";
  event.tenant = std::string(tenant);
  event.code = verdict.accepted ? 0 : verdict.code;
  event.enhanced = verdict.enhanced;
  event.detail = verdict.reason;
  event.facts.emplace_back("result", verdict.accepted ? "accepted" : "refused");
  if (!verdict.accepted) event.facts.emplace_back("reply", verdict.reply);
  // The connection's own decisions belong to every transaction it carries.
  bool outside = draft_.envelope.queue_id.empty();
  if (outside && verdict.accepted) {
    std::erase_if(connection_decisions_,
                  [&](const trace::TraceEvent& e) { return e.stage == event.stage; });
    connection_decisions_.push_back(std::move(event));
    return;
  }
  event.message_id = trace_id();
  settings_.trace->record(std::move(event));
}

// A refusal the client was sent (error_reply, the too-many-recipients 452,
// refuse()): counted by stage and status, and traced with the reply.
void SessionMachine::trace_refusal(int code, std::string_view enhanced, std::string_view text) {
  std::string stage = refusing_stage_.empty() ? std::string(command_stage_) : refusing_stage_;
  metrics::gateway_metrics().refusal(stage, enhanced);
  refusing_stage_.clear();
  if (!settings_.trace) return;
  trace::TraceEvent event = trace_event(trace::Kind::refused, stage);
  event.code = code;
  event.enhanced = std::string(enhanced);
  event.detail = std::string(text);
  event.recipient = command_stage_ == "rcpt" ? current_recipient_ : "";
  const Envelope& envelope = draft_.envelope;
  event.sender = envelope.sender.text();
  event.tenant = envelope.tenant;
  for (const Recipient& r : envelope.recipients) event.recipients.push_back(r.address.text());
  event.facts.emplace_back("client_ip", client_.ip);
  if (!client_.helo.empty()) event.facts.emplace_back("helo", client_.helo);
  if (!client_.tls_version.empty()) event.facts.emplace_back("tls", client_.tls_version);
  if (!client_.inbound_connector.empty())
    event.facts.emplace_back("inbound_connector", client_.inbound_connector);
  settings_.trace->record(std::move(event));
  // The next refusal outside a transaction is another attempt: another id.
  if (envelope.queue_id.empty()) session_trace_id_.clear();
}

// MAIL FROM was accepted: the transaction's trace starts with the
// connection's identity.
void SessionMachine::trace_transaction_started() {
  session_trace_id_.clear();
  if (!settings_.trace) return;
  for (trace::TraceEvent event : connection_decisions_) {
    event.message_id = draft_.envelope.queue_id;
    settings_.trace->record(std::move(event));
  }
}

// The end of DATA, before the content goes to the queue: what the summary
// shows of the message.
void SessionMachine::trace_content(const std::string& content, std::size_t header_size,
                                   std::uint64_t size) {
  trace_size_ = size;
  if (!settings_.trace) return;
  HeaderBlock header(std::string_view(content).substr(0, header_size));
  trace_subject_ = header.first_unfolded("Subject", trace::kSummaryFieldBytes);
  trace_message_id_ = header.first_unfolded("Message-ID", trace::kSummaryFieldBytes);
}

// The message passed the intake: its received event is made now (with the
// time of now, so it comes before the scheduler's events about it), and
// recorded once the queue has it.
void SessionMachine::trace_accepted() {
  received_event_.reset();
  if (!settings_.trace) return;
  const Envelope& envelope = draft_.envelope;
  trace::TraceEvent event = trace_event(trace::Kind::received, "queue");
  event.time_ms = settings_.trace->now_ms();
  event.code = 250;
  event.enhanced = "2.0.0";
  event.detail = "queued as " + envelope.queue_id;
  event.sender = envelope.sender.text();
  event.tenant = envelope.tenant;
  event.subject = trace_subject_;
  for (const Recipient& r : envelope.recipients) event.recipients.push_back(r.address.text());
  auto& f = event.facts;
  f.emplace_back("client_ip", client_.ip);
  f.emplace_back("client_port", std::to_string(client_.port));
  f.emplace_back("helo", client_.helo);
  f.emplace_back("tls", client_.tls_version.empty() ? "none" : client_.tls_version);
  if (!client_.tls_cipher.empty()) f.emplace_back("tls_cipher", client_.tls_cipher);
  if (!client_.cert_subject.empty()) {
    f.emplace_back("client_cert", client_.cert_subject);
    f.emplace_back("client_cert_verified", client_.cert_verified ? "true" : "false");
  }
  f.emplace_back("inbound_connector",
                 client_.inbound_connector.empty() ? "none" : client_.inbound_connector);
  f.emplace_back("size", std::to_string(trace_size_));
  if (!trace_message_id_.empty()) f.emplace_back("message_id", trace_message_id_);
  received_event_ = std::move(event);
}

void SessionMachine::trace_received() {
  metrics::gateway_metrics().message("accepted");
  if (settings_.trace && received_event_) settings_.trace->record(std::move(*received_event_));
  received_event_.reset();
}

// The queue could not take the message: the client is told to try later.
void SessionMachine::trace_commit_failed(int code, std::string_view enhanced,
                                         std::string_view text) {
  received_event_.reset();
  refusing_stage_ = "queue";
  trace_refusal(code, enhanced, text);
}

}  // namespace bh::smtp
