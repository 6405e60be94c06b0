#include "trace/trace_store.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "store/store_error.hpp"
#include "trace/facts_text.hpp"
#include "util/log.hpp"

namespace bh::trace {
namespace {

using store::Params;
using store::Value;

// Table names carry the component's prefix; every query below is written
// once for SQLite and PostgreSQL.
constexpr std::string_view kSchemaV1 =
    "CREATE TABLE bh_trace_messages ("
    " id TEXT PRIMARY KEY, node TEXT NOT NULL, first_ms BIGINT NOT NULL,"
    " last_ms BIGINT NOT NULL, sender TEXT NOT NULL, sender_key TEXT NOT NULL,"
    " tenant TEXT NOT NULL, status TEXT NOT NULL, subject TEXT NOT NULL);"
    "CREATE INDEX bh_trace_messages_first ON bh_trace_messages (first_ms, id);"
    "CREATE INDEX bh_trace_messages_last ON bh_trace_messages (last_ms);"
    "CREATE INDEX bh_trace_messages_sender ON bh_trace_messages (sender_key, first_ms);"
    "CREATE INDEX bh_trace_messages_tenant ON bh_trace_messages (tenant, first_ms);"
    "CREATE TABLE bh_trace_recipients ("
    " message_id TEXT NOT NULL, address TEXT NOT NULL, address_key TEXT NOT NULL,"
    " status TEXT NOT NULL, connector TEXT NOT NULL, PRIMARY KEY (message_id, address_key));"
    "CREATE INDEX bh_trace_recipients_address ON bh_trace_recipients (address_key);"
    "CREATE TABLE bh_trace_events ("
    " message_id TEXT NOT NULL, time_ms BIGINT NOT NULL, node TEXT NOT NULL, seq BIGINT NOT NULL,"
    " kind TEXT NOT NULL, stage TEXT NOT NULL, recipient TEXT NOT NULL, connector TEXT NOT NULL,"
    " code BIGINT NOT NULL, enhanced TEXT NOT NULL, detail TEXT NOT NULL,"
    " duration_ms BIGINT NOT NULL, facts TEXT NOT NULL);"
    "CREATE INDEX bh_trace_events_message ON bh_trace_events (message_id, time_ms)";

// The node whose received or refused event made the summary ('' : none
// yet). Queue ids carry their node's tag (mail/queue_id.hpp); should two
// nodes still send a summary for one id, the second does not overwrite the
// first (see kUpsertSummary).
constexpr std::string_view kSchemaV2 =
    "ALTER TABLE bh_trace_messages ADD COLUMN received_node TEXT NOT NULL DEFAULT ''";

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> list{{1, kSchemaV1, {}}, {2, kSchemaV2, {}}};
  return list;
}

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

constexpr std::string_view kSummaryColumns =
    "id, node, first_ms, last_ms, sender, tenant, status, subject";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

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

TraceEvent event_from(const store::Row& row) {
  TraceEvent e;
  e.message_id = row.text(0);
  e.time_ms = row.integer(1);
  e.node = row.text(2);
  e.kind = kind_from(row.text(4)).value_or(Kind::decision);
  e.stage = row.text(5);
  e.recipient = row.text(6);
  e.connector = row.text(7);
  e.code = static_cast<int>(row.integer(8));
  e.enhanced = row.text(9);
  e.detail = row.text(10);
  e.duration_ms = row.integer(11);
  for (auto& [key, value] : parse_facts(row.text(12))) {
    if (key == "rcpt")
      e.recipients.push_back(std::move(value));
    else if (key == "sender")
      e.sender = std::move(value);
    else if (key == "tenant")
      e.tenant = std::move(value);
    else if (key == "subject")
      e.subject = std::move(value);
    else
      e.facts.emplace_back(std::move(key), std::move(value));
  }
  return e;
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

MessageSummary summary_from(const store::Row& row) {
  return MessageSummary{row.text(0),    row.text(1), row.integer(2),
                        row.integer(3), row.text(4), row.text(5),
                        row.text(6),    row.text(7), {}};
}

Status load_recipients(store::Connection& c, MessageSummary& m) {
  auto rows = c.query(
      "SELECT address, status, connector FROM bh_trace_recipients WHERE message_id = $1"
      " ORDER BY address_key",
      {m.id});
  if (!rows) return rows.error();
  for (const store::Row& r : *rows) m.recipients.push_back({r.text(0), r.text(1), r.text(2)});
  return ok_status();
}

}  // namespace

std::string status_list() {
  std::string out;
  for (std::string_view status : kStatuses) out += (out.empty() ? "" : ", ") + std::string(status);
  return out;
}

bool valid_status(std::string_view status) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses);
}

Result<std::unique_ptr<TraceStore>> TraceStore::open(std::shared_ptr<store::Database> database) {
  if (Status migrated = database->migrate("trace", migrations()); !migrated)
    return migrated.error();
  return std::unique_ptr<TraceStore>(new TraceStore(std::move(database)));
}

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

Result<MessagePage> TraceStore::list(const MessageQuery& query) {
  std::string sql =
      "SELECT " + std::string(kSummaryColumns) + " FROM bh_trace_messages WHERE 1 = 1";
  Params params;
  auto bind = [&](Value value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  if (!query.sender.empty()) sql += " AND sender_key = " + bind(lower(query.sender));
  if (!query.tenant.empty()) sql += " AND tenant = " + bind(query.tenant);
  if (!query.status.empty()) sql += " AND status = " + bind(query.status);
  if (query.since_ms > 0) sql += " AND first_ms >= " + bind(query.since_ms);
  if (!query.recipient.empty())
    sql += " AND id IN (SELECT message_id FROM bh_trace_recipients WHERE address_key = " +
           bind(lower(query.recipient)) + ")";
  if (!query.after.empty()) {
    std::string after = bind(query.after);
    std::string at = "(SELECT first_ms FROM bh_trace_messages WHERE id = " + after + ")";
    sql += " AND (first_ms < " + at + " OR (first_ms = " + at + " AND id < " + after + "))";
  }
  std::size_t limit = std::clamp<std::size_t>(query.limit, 1, kMaxPageSize);
  sql += " ORDER BY first_ms DESC, id DESC LIMIT " +
         bind(static_cast<std::int64_t>(limit + 1));  // one more: is there a next page?
  MessagePage page;
  Status read = database_->transaction([&](store::Connection& c) -> Status {
    auto rows = c.query(sql, params);
    if (!rows) return rows.error();
    for (const store::Row& row : *rows) {
      if (page.messages.size() == limit) {
        page.next = page.messages.back().id;
        break;
      }
      page.messages.push_back(summary_from(row));
      if (Status loaded = load_recipients(c, page.messages.back()); !loaded) return loaded;
    }
    return ok_status();
  });
  if (!read) return read.error();
  return page;
}

Result<MessageTrace> TraceStore::get(const std::string& id) {
  MessageTrace trace;
  bool found = false;
  Status read = database_->transaction([&](store::Connection& c) -> Status {
    auto rows = c.query(
        "SELECT " + std::string(kSummaryColumns) + " FROM bh_trace_messages WHERE id = $1", {id});
    if (!rows) return rows.error();
    if (rows->empty()) return ok_status();
    found = true;
    trace.summary = summary_from(rows->front());
    if (Status loaded = load_recipients(c, trace.summary); !loaded) return loaded;
    auto events = c.query(
        "SELECT message_id, time_ms, node, seq, kind, stage, recipient, connector, code,"
        " enhanced, detail, duration_ms, facts FROM bh_trace_events WHERE message_id = $1"
        " ORDER BY time_ms, node, seq",
        {id});
    if (!events) return events.error();
    for (const store::Row& row : *events) trace.events.push_back(event_from(row));
    return ok_status();
  });
  if (!read) return read.error();
  if (!found) return store::store_error(store::StoreErrc::not_found, "no message " + id);
  return trace;
}

Result<std::int64_t> TraceStore::purge(std::int64_t before_ms) {
  std::int64_t purged = 0;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    constexpr std::string_view kOld = "SELECT id FROM bh_trace_messages WHERE last_ms < $1";
    auto events = c.execute(
        "DELETE FROM bh_trace_events WHERE message_id IN (" + std::string(kOld) + ")", {before_ms});
    if (!events) return events.error();
    auto recipients =
        c.execute("DELETE FROM bh_trace_recipients WHERE message_id IN (" + std::string(kOld) + ")",
                  {before_ms});
    if (!recipients) return recipients.error();
    auto messages = c.execute("DELETE FROM bh_trace_messages WHERE last_ms < $1", {before_ms});
    if (!messages) return messages.error();
    purged = *messages;
    return ok_status();
  });
  if (!done) return done.error();
  return purged;
}

}  // namespace bh::trace
