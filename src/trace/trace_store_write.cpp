// TraceStore::write: a batch of events in one transaction, the summary
// and recipient rows they change, and the message status worked out again.
#include <algorithm>
#include <map>
#include <set>

#include "trace/facts_text.hpp"
#include "trace/trace_store.hpp"
#include "trace/trace_store_internal.hpp"
#include "util/log.hpp"

namespace bh::trace {
namespace {

// Only the node that received the message (or none yet: the row may come
// from another node's report) sets the summary; another node's summary for
// the same id changes nothing, so two nodes' messages never merge.
constexpr std::string_view kUpsertSummary =
    "INSERT INTO bh_trace_messages"
    " (id, node, first_ms, last_ms, sender, sender_key, tenant, status, subject, received_node)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (id) DO UPDATE SET"
    " first_ms = CASE WHEN excluded.first_ms < bh_trace_messages.first_ms"
    "   THEN excluded.first_ms ELSE bh_trace_messages.first_ms END,"
    " last_ms = CASE WHEN excluded.last_ms > bh_trace_messages.last_ms"
    "   THEN excluded.last_ms ELSE bh_trace_messages.last_ms END,"
    " node = excluded.node, sender = excluded.sender, sender_key = excluded.sender_key,"
    " tenant = CASE WHEN excluded.tenant <> '' THEN excluded.tenant"
    "   ELSE bh_trace_messages.tenant END,"
    " subject = CASE WHEN excluded.subject <> '' THEN excluded.subject"
    "   ELSE bh_trace_messages.subject END,"
    " status = CASE WHEN excluded.status = 'refused' AND bh_trace_messages.status <> 'started'"
    "   THEN bh_trace_messages.status ELSE excluded.status END,"
    " received_node = excluded.received_node"
    " WHERE bh_trace_messages.received_node IN ('', excluded.received_node)";

// Events without a summary (decisions before the end of the transaction,
// attempts, a report at another node) only make the row exist ("started"
// until a received or refused event says more) and move its last time.
constexpr std::string_view kTouch =
    "INSERT INTO bh_trace_messages"
    " (id, node, first_ms, last_ms, sender, sender_key, tenant, status, subject)"
    " VALUES ($1, $2, $3, $4, '', '', '', 'started', '')"
    " ON CONFLICT (id) DO UPDATE SET"
    " first_ms = CASE WHEN excluded.first_ms < bh_trace_messages.first_ms"
    "   THEN excluded.first_ms ELSE bh_trace_messages.first_ms END,"
    " last_ms = CASE WHEN excluded.last_ms > bh_trace_messages.last_ms"
    "   THEN excluded.last_ms ELSE bh_trace_messages.last_ms END";

// A final status stays (a late event of another generation does not undo it).
constexpr std::string_view kUpsertRecipient =
    "INSERT INTO bh_trace_recipients (message_id, address, address_key, status, connector)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (message_id, address_key) DO UPDATE SET"
    " status = CASE WHEN bh_trace_recipients.status IN ('delivered', 'bounced', 'expired')"
    "   THEN bh_trace_recipients.status ELSE excluded.status END,"
    " connector = CASE WHEN excluded.connector <> '' THEN excluded.connector"
    "   ELSE bh_trace_recipients.connector END";

constexpr std::string_view kInsertEvent =
    "INSERT INTO bh_trace_events (message_id, time_ms, node, seq, kind, stage, recipient,"
    " connector, code, enhanced, detail, duration_ms, facts)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

// What the message's status is, from its recipients (refused ones aside).
std::string aggregate(const std::string& current, const std::vector<std::string>& recipients) {
  std::size_t delivered = 0, bounced = 0, expired = 0, pending = 0, deferred = 0, queued = 0;
  for (const std::string& s : recipients) {
    if (s == "delivered")
      ++delivered;
    else if (s == "bounced")
      ++bounced;
    else if (s == "expired")
      ++expired;
    else if (s == "pending")
      ++pending;
    else if (s == "deferred")
      ++deferred;
    else if (s == "queued")
      ++queued;
  }
  std::size_t counted = delivered + bounced + expired + pending + deferred + queued;
  if (counted == 0) return current;
  if (deferred > 0) return "deferred";
  if (queued > 0) return current == "deferred" || current == "pending" ? current : "queued";
  if (pending > 0) return "pending";
  if (delivered == counted) return "delivered";
  if (expired == counted) return "expired";
  if (delivered == 0) return "bounced";
  return "partial";
}

// The recipient status an event sets ("" : none).
std::string recipient_status(const TraceEvent& e) {
  switch (e.kind) {
    case Kind::received:
      return "queued";
    case Kind::refused:
      return "refused";
    case Kind::attempt:
      return e.stage == "deferred" ? "deferred" : "";  // an attempt's stage is its outcome
    case Kind::pending:
      return "pending";
    case Kind::delivered:
      return "delivered";
    case Kind::bounced:
      return "bounced";
    case Kind::expired:
      return "expired";
    default:
      return "";
  }
}

std::string facts_of(const TraceEvent& e) {
  std::vector<std::pair<std::string, std::string>> all;
  bool summary = e.kind == Kind::received || e.kind == Kind::refused;
  if (summary && !e.sender.empty()) all.emplace_back("sender", e.sender);
  if (!e.tenant.empty()) all.emplace_back("tenant", e.tenant);
  if (!e.subject.empty()) all.emplace_back("subject", e.subject);
  for (const std::string& r : e.recipients) all.emplace_back("rcpt", r);
  all.insert(all.end(), e.facts.begin(), e.facts.end());
  return format_facts(all);
}

}  // namespace

// One statement per message for its times, then per event its row and the
// recipient it changes; the status is worked out again only for messages
// whose recipients (or summary) changed in the batch.
Status TraceStore::write(const std::vector<TraceEvent>& events) {
  if (events.empty()) return ok_status();
  struct Span {
    std::string node;
    std::int64_t first_ms, last_ms;
  };
  std::map<std::string, Span> spans;
  for (const TraceEvent& e : events) {
    if (e.message_id.empty()) continue;
    auto [it, made] = spans.try_emplace(e.message_id, Span{e.node, e.time_ms, e.time_ms});
    if (made) continue;
    it->second.first_ms = std::min(it->second.first_ms, e.time_ms);
    it->second.last_ms = std::max(it->second.last_ms, e.time_ms);
  }
  return database_->transaction([&](store::Connection& c) -> Status {
    for (const auto& [id, span] : spans) {
      auto row = c.execute(kTouch, {id, span.node, span.first_ms, span.last_ms});
      if (!row) return row.error();
    }
    std::set<std::string> changed;
    std::set<std::pair<std::string, std::string>> collided;  // (id, node), this batch
    for (const TraceEvent& e : events) {
      if (e.message_id.empty()) continue;
      bool summary = e.kind == Kind::received || e.kind == Kind::refused;
      if (summary) {
        auto row = c.execute(
            kUpsertSummary,
            {e.message_id, e.node, e.time_ms, e.time_ms, e.sender, lower(e.sender), e.tenant,
             std::string(e.kind == Kind::refused ? "refused" : "queued"), e.subject, e.node});
        if (!row) return row.error();
        if (*row == 0) {
          // Another node's message has this id: this one is not merged into
          // it (neither its envelope nor its events).
          log::Line("trace_id_collision")
              .kv("id", e.message_id)
              .kv("node", e.node)
              .kv("reason", "another node's message has this id in the trace; not recorded")
              .write(log::Level::warn);
          collided.insert({e.message_id, e.node});
          continue;
        }
        changed.insert(e.message_id);
      }
      if (collided.contains({e.message_id, e.node})) continue;
      std::string status = recipient_status(e);
      std::vector<std::string> addresses;
      if (!e.recipient.empty())
        addresses.push_back(e.recipient);
      else if (summary)
        addresses = e.recipients;
      if (!status.empty())
        for (const std::string& address : addresses) {
          auto r = c.execute(kUpsertRecipient,
                             {e.message_id, address, lower(address), status, e.connector});
          if (!r) return r.error();
          changed.insert(e.message_id);
        }
      auto inserted = c.execute(
          kInsertEvent, {e.message_id, e.time_ms, e.node, ++seq_, std::string(kind_name(e.kind)),
                         e.stage, e.recipient, e.connector, static_cast<std::int64_t>(e.code),
                         e.enhanced, e.detail, e.duration_ms, facts_of(e)});
      if (!inserted) return inserted.error();
    }
    for (const std::string& id : changed) {
      auto current = c.query("SELECT status FROM bh_trace_messages WHERE id = $1", {id});
      if (!current) return current.error();
      auto recipients = c.query(
          "SELECT status FROM bh_trace_recipients WHERE message_id = $1 AND status <> 'refused'",
          {id});
      if (!recipients) return recipients.error();
      std::vector<std::string> statuses;
      for (const store::Row& r : *recipients) statuses.push_back(r.text(0));
      std::string was = current->empty() ? "started" : current->front().text(0);
      std::string now = aggregate(was, statuses);
      if (now == was) continue;
      auto updated = c.execute("UPDATE bh_trace_messages SET status = $2 WHERE id = $1", {id, now});
      if (!updated) return updated.error();
    }
    return ok_status();
  });
}

}  // namespace bh::trace
