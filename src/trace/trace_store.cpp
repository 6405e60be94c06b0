// The trace's tables (schema and migrations), the status names, and
// TraceStore's open and purge. Writing is trace_store_write.cpp, reading
// trace_store_read.cpp.
#include "trace/trace_store.hpp"

#include <algorithm>

namespace bh::trace {
namespace {

// Table names carry the component's prefix; every query of the trace
// (here, trace_store_write.cpp, trace_store_read.cpp) is written once for
// SQLite and PostgreSQL.
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
