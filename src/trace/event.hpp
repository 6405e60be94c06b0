// The message trace's events and the interface the gateway records them
// through. Pure (no I/O, no store): the SMTP session in bh_core records into
// a Sink; the Recorder (trace/recorder.hpp) is the Sink that writes them to
// the store in batches on its own thread. docs/api.md lists the kinds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bh::trace {

enum class Kind {
  received,     // the message was accepted: client, identity, envelope
  decision,     // one intake stage's verdict and reason
  refused,      // a command or the message was refused: the reply sent
  route,        // a recipient was given to a connector
  header_edit,  // header fields removed, stamps removed or edited by a rule
  attempt,      // one delivery attempt of one recipient, with the peer's reply
  pending,      // waiting at a foreign system for its report (the reference)
  delivered,    // final: delivered
  bounced,      // final: refused by the next hop (or by the report)
  expired,      // final: too long in the queue (or no report in time)
  dsn,          // a delivery status notification was queued
};

inline constexpr Kind kAllKinds[] = {
    Kind::received, Kind::decision,  Kind::refused, Kind::route,   Kind::header_edit, Kind::attempt,
    Kind::pending,  Kind::delivered, Kind::bounced, Kind::expired, Kind::dsn};

inline std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::received:
      return "received";
    case Kind::decision:
      return "decision";
    case Kind::refused:
      return "refused";
    case Kind::route:
      return "route";
    case Kind::header_edit:
      return "header_edit";
    case Kind::attempt:
      return "attempt";
    case Kind::pending:
      return "pending";
    case Kind::delivered:
      return "delivered";
    case Kind::bounced:
      return "bounced";
    case Kind::expired:
      return "expired";
    case Kind::dsn:
      return "dsn";
  }
  return "decision";
}

inline std::optional<Kind> kind_from(std::string_view name) {
  for (Kind kind : kAllKinds)
    if (kind_name(kind) == name) return kind;
  return std::nullopt;
}

// The kind of event an intake stage's decision is recorded as: removed
// header fields, removed stamps and a rule's field edits change the message.
inline Kind decision_kind(std::string_view stage) {
  return stage == "headers_removed" || stage == "stamp" || stage == "header_edit"
             ? Kind::header_edit
             : Kind::decision;
}

// How much of a message's Subject and Message-ID a trace summary keeps (a
// header line's length, RFC 5322 2.1.1).
inline constexpr std::size_t kSummaryFieldBytes = 998;

struct TraceEvent {
  std::string message_id;    // the queue id (or the id a refusal outside a transaction got)
  std::int64_t time_ms = 0;  // unix milliseconds; 0: the recorder stamps it
  std::string node;          // "": the recorder's node
  Kind kind = Kind::decision;
  std::string stage;      // decision, refused: "connect", "helo", "mail", "rcpt", "data", ...
  std::string recipient;  // the recipient the event is about, if one
  std::string connector;  // route, attempt, pending, final outcomes
  int code = 0;           // the SMTP reply code (refused, attempt), 0: none
  std::string enhanced;   // its enhanced status code
  std::string detail;     // the reason, the reply text, the peer's answer
  std::int64_t duration_ms = -1;  // attempt: how long the connector took; -1: not timed
  // What the message summary is made of (received; refused, as far as known).
  std::string sender;  // the envelope sender's text, "" for the null sender
  std::string tenant;
  std::vector<std::string> recipients;
  std::string subject;
  // Further facts in the order they were noted (received: client IP, HELO,
  // TLS version and cipher, certificate, inbound connector, size, Message-ID).
  std::vector<std::pair<std::string, std::string>> facts;
};

// Where events go. record() must not block: the SMTP I/O threads call it.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void record(TraceEvent event) = 0;
  // The time record() would stamp now (unix milliseconds), for an event
  // recorded later than it happened; 0: none (record() stamps it).
  virtual std::int64_t now_ms() const { return 0; }
};

}  // namespace bh::trace
