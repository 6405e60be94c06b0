#include "trace/delivery_events.hpp"

#include <charconv>

namespace bh::trace {
namespace {

using connectors::Outcome;

TraceEvent about(const Envelope& envelope, std::size_t index, Kind kind,
                 const std::string& connector) {
  TraceEvent e;
  e.message_id = envelope.queue_id;
  e.kind = kind;
  if (index < envelope.recipients.size()) e.recipient = envelope.recipients[index].address.text();
  e.connector = connector;
  return e;
}

int code_at(std::string_view text) {
  int code = 0;
  if (text.size() < 3) return 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + 3, code);
  if (ec != std::errc() || end != text.data() + 3 || code < 200 || code > 599) return 0;
  if (text.size() > 3 && text[3] != ' ' && text[3] != '-') return 0;
  return code;
}

// The peer's reply code in a diagnostic: at its start ("550 5.1.1 ..."), or
// after the connector's "HOST said to RCPT TO: "; 0 when there is none.
int reply_code(std::string_view diagnostic) {
  if (int code = code_at(diagnostic)) return code;
  std::size_t said = diagnostic.find(" said to ");
  if (said == std::string_view::npos) return 0;
  std::size_t colon = diagnostic.find(": ", said);
  return colon == std::string_view::npos ? 0 : code_at(diagnostic.substr(colon + 2));
}

void fill_result(TraceEvent& e, const connectors::RecipientResult& result) {
  e.enhanced = result.status;
  e.detail = result.diagnostic;
  e.code = reply_code(result.diagnostic);
  if (!result.remote_mta.empty()) e.facts.emplace_back("remote", result.remote_mta);
}

}  // namespace

TraceEvent route_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                       bool by_rule) {
  TraceEvent e = about(envelope, index, Kind::route, connector);
  e.stage = by_rule ? "rule" : "routes";
  e.detail = e.recipient + " -> " + connector +
             (by_rule ? " (chosen by a transport rule)" : " (routing table)");
  return e;
}

TraceEvent attempt_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const connectors::RecipientResult& result, std::int64_t duration_ms) {
  TraceEvent e = about(envelope, index, Kind::attempt, connector);
  e.stage = std::string(outcome_name(result.outcome));
  fill_result(e, result);
  e.duration_ms = duration_ms;
  return e;
}

TraceEvent final_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                       const connectors::RecipientResult& result, std::string_view how) {
  TraceEvent e =
      about(envelope, index, result.outcome == Outcome::delivered ? Kind::delivered : Kind::bounced,
            connector);
  e.stage = std::string(how);
  fill_result(e, result);
  return e;
}

TraceEvent pending_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const connectors::RecipientResult& result) {
  TraceEvent e = about(envelope, index, Kind::pending, connector);
  e.stage = "attempt";
  e.detail = "waiting for the report of " + connector + " for reference " + result.reference;
  e.facts.emplace_back("reference", result.reference);
  if (result.pending_deadline > 0)
    e.facts.emplace_back("deadline", std::to_string(result.pending_deadline));
  return e;
}

TraceEvent expired_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const std::string& status, const std::string& diagnostic) {
  TraceEvent e = about(envelope, index, Kind::expired, connector);
  e.stage = "lifetime";
  e.enhanced = status;
  e.detail = diagnostic;
  return e;
}

TraceEvent dsn_event(const Envelope& original, std::string_view kind, const std::string& dsn_id,
                     std::size_t recipients) {
  TraceEvent e;
  e.message_id = original.queue_id;
  e.kind = Kind::dsn;
  e.stage = std::string(kind);
  e.detail = std::string(kind) + " notification for " + std::to_string(recipients) +
             " recipient(s) queued as " + dsn_id + " to " +
             (original.sender.null() ? std::string("<>") : original.sender.text());
  e.facts.emplace_back("dsn_id", dsn_id);
  return e;
}

TraceEvent dsn_made_event(const Envelope& dsn, std::string_view kind,
                          const std::string& original_id) {
  TraceEvent e;
  e.message_id = dsn.queue_id;
  e.kind = Kind::received;
  e.stage = "dsn";
  e.detail = std::string(kind) + " notification about " + original_id;
  e.sender = dsn.sender.text();
  e.tenant = dsn.tenant;
  for (const Recipient& r : dsn.recipients) e.recipients.push_back(r.address.text());
  e.facts.emplace_back("original_id", original_id);
  return e;
}

}  // namespace bh::trace
