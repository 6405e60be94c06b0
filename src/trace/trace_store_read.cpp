// TraceStore's reads: a page of message summaries by filters (list) and
// one message with its recipients and events (get).
#include <algorithm>

#include "store/store_error.hpp"
#include "trace/facts_text.hpp"
#include "trace/trace_store.hpp"
#include "trace/trace_store_internal.hpp"

namespace bh::trace {
namespace {

using store::Params;
using store::Value;

constexpr std::string_view kSummaryColumns =
    "id, node, first_ms, last_ms, sender, tenant, status, subject";

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
  Status read = database_->read_transaction([&](store::Connection& c) -> Status {
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
  Status read = database_->read_transaction([&](store::Connection& c) -> Status {
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

}  // namespace bh::trace
