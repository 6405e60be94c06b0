#include "connectors/sms/sms_store.hpp"

#include <algorithm>
#include <utility>

#include "util/clock.hpp"

namespace bh::connectors::sms {
namespace {

// (v1 is not released: the connector column of sms_conversations, the
// number and seen_key columns and sms_inbound_seen are in it, not in a v2.)
//
// sms_inbound_parts keeps a head row (sequence 0, no text) per message
// besides its parts: every add_inbound_part upserts it first, which locks
// it until commit, so two nodes that receive the last two parts at once
// are serialised and the second sees the first's part (PostgreSQL reads
// committed rows per statement). Without it each would see the message
// incomplete and it would go out as incomplete after reassembly_timeout.
const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> steps = {
      {1,
       "CREATE TABLE sms_parts ("
       "  connector TEXT NOT NULL, message_id TEXT NOT NULL, reference TEXT NOT NULL,"
       "  part BIGINT NOT NULL, parts BIGINT NOT NULL, created BIGINT NOT NULL,"
       "  PRIMARY KEY (connector, message_id));"
       "CREATE INDEX sms_parts_reference ON sms_parts (connector, reference);"
       "CREATE TABLE sms_receipts ("
       "  connector TEXT NOT NULL, message_id TEXT NOT NULL, state BIGINT NOT NULL,"
       "  error TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',"
       "  received BIGINT NOT NULL, PRIMARY KEY (connector, message_id));"
       "CREATE TABLE sms_conversations ("
       "  connector TEXT NOT NULL, mailbox TEXT NOT NULL, remote TEXT NOT NULL,"
       "  local TEXT NOT NULL, updated BIGINT NOT NULL,"
       "  PRIMARY KEY (connector, mailbox, remote));"
       "CREATE INDEX sms_conversations_updated ON sms_conversations (updated);"
       "CREATE TABLE sms_inbound_parts ("
       "  connector TEXT NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL,"
       "  reference BIGINT NOT NULL, total BIGINT NOT NULL, sequence BIGINT NOT NULL,"
       "  text TEXT NOT NULL DEFAULT '', received BIGINT NOT NULL,"
       "  number BIGINT NOT NULL DEFAULT 0, seen_key TEXT NOT NULL DEFAULT '',"
       "  PRIMARY KEY (connector, source, destination, reference, total, sequence));"
       "CREATE TABLE sms_inbound_seen ("
       "  connector TEXT NOT NULL, sms_key TEXT NOT NULL, created BIGINT NOT NULL,"
       "  PRIMARY KEY (connector, sms_key));"
       "CREATE INDEX sms_inbound_seen_created ON sms_inbound_seen (created);",
       {}},
      // A resolved reference keeps its parts (settled = 1) until purge: a
      // retry of a recipient deferred meanwhile must still find them, or it
      // would submit every part again (mark_settled).
      {2, "ALTER TABLE sms_parts ADD COLUMN settled BIGINT NOT NULL DEFAULT 0;", {}},
  };
  return steps;
}

constexpr std::int64_t kDelivered = static_cast<std::int64_t>(ReceiptState::delivered);

std::string lower_ascii(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : char(c);
  });
  return text;
}

// What settle() and settled_references() agree on, per reference: a part
// with a final receipt other than DELIVRD settles it as failed; otherwise
// it is delivered once every part number 1..parts has a DELIVRD receipt
// (counted by part number: a part submitted twice after a lost answer has
// two rows, and one DELIVRD of the two is enough). parts: the largest
// count its rows give.
#define BH_SMS_FAILED_ROWS "SUM(CASE WHEN r.state IS NOT NULL AND r.state != $2 THEN 1 ELSE 0 END)"
#define BH_SMS_DELIVERED_PARTS "COUNT(DISTINCT CASE WHEN r.state = $2 THEN p.part END)"
#define BH_SMS_JOIN                                                                          \
  "FROM sms_parts p LEFT JOIN sms_receipts r ON r.connector = p.connector AND r.message_id " \
  "= p.message_id"

}  // namespace

Error SmsStore::failed(const Error& error, const std::string& what) {
  return Error{"sms store: " + what + ": " + error.message, error.code};
}

Result<std::unique_ptr<SmsStore>> SmsStore::open(std::shared_ptr<store::Database> database) {
  if (Status migrated = database->migrate("sms", migrations()); !migrated)
    return failed(migrated.error(), "open");
  return std::unique_ptr<SmsStore>(new SmsStore(std::move(database)));
}

Result<std::vector<PartRecord>> SmsStore::parts_of(const std::string& connector,
                                                   const std::string& reference) {
  auto rows = database_->query(
      "SELECT message_id, part, parts, settled FROM sms_parts WHERE connector = $1 AND "
      "reference = $2 ORDER BY part, message_id",
      {connector, reference});
  if (!rows) return failed(rows.error(), "parts");
  std::vector<PartRecord> parts;
  for (const store::Row& row : *rows)
    parts.push_back({row.text(0), static_cast<int>(row.integer(1)),
                     static_cast<int>(row.integer(2)), row.integer(3) != 0});
  return parts;
}

Status SmsStore::add_part(const std::string& connector, const std::string& reference,
                          const PartRecord& part, std::int64_t now) {
  // An id the SMSC gives again (after years, or a restarted SMSC) now
  // names this part (not settled); the same part again keeps its mark.
  auto done = database_->execute(
      "INSERT INTO sms_parts (connector, message_id, reference, part, parts, created) VALUES "
      "($1, $2, $3, $4, $5, $6) ON CONFLICT (connector, message_id) DO UPDATE SET settled = "
      "CASE WHEN sms_parts.reference = $3 THEN sms_parts.settled ELSE 0 END, reference = $3, "
      "part = $4, parts = $5, created = $6",
      {connector, part.message_id, reference, std::int64_t{part.part}, std::int64_t{part.parts},
       now});
  if (!done) return failed(done.error(), "add part");
  return ok_status();
}

Result<std::optional<std::string>> SmsStore::add_receipt(const std::string& connector,
                                                         const ReceiptRecord& receipt,
                                                         std::int64_t now) {
  if (!is_final(receipt.state))
    return Error{"sms store: add receipt: " + receipt.message_id +
                 ": only final states are kept (the caller drops intermediate receipts)"};
  std::optional<std::string> reference;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    auto added = c.execute(
        "INSERT INTO sms_receipts (connector, message_id, state, error, text, received) VALUES "
        "($1, $2, $3, $4, $5, $6) ON CONFLICT (connector, message_id) DO UPDATE SET state = $3, "
        "error = $4, text = $5, received = $6",
        {connector, receipt.message_id, static_cast<std::int64_t>(receipt.state), receipt.error,
         receipt.text, now});
    if (!added) return added.error();
    auto rows = c.query("SELECT reference FROM sms_parts WHERE connector = $1 AND message_id = $2",
                        {connector, receipt.message_id});
    if (!rows) return rows.error();
    if (!rows->empty()) reference = rows->front().text(0);
    return ok_status();
  });
  if (!done) return failed(done.error(), "add receipt");
  return reference;
}

Result<std::optional<Settlement>> SmsStore::settle(const std::string& connector,
                                                   const std::string& reference) {
  auto rows =
      database_->query("SELECT p.part, p.parts, r.state, r.error, r.text, p.message_id " BH_SMS_JOIN
                       " WHERE p.connector = $1 AND p.reference = $2 ORDER BY p.part, p.message_id",
                       {connector, reference});
  if (!rows) return failed(rows.error(), "settle");
  if (rows->empty()) return std::optional<Settlement>();
  Settlement settlement;
  settlement.reference = reference;
  std::vector<int> delivered;  // part numbers with a DELIVRD receipt
  for (const store::Row& row : *rows) {
    int part = static_cast<int>(row.integer(0));
    settlement.parts = std::max(settlement.parts, static_cast<int>(row.integer(1)));
    if (row.null(2)) continue;  // no receipt yet
    if (row.integer(2) == kDelivered) {
      delivered.push_back(part);
    } else if (settlement.failed_part == 0) {  // rows by part: the lowest failed part
      settlement.failed_part = part;
      settlement.failure = {row.text(5), static_cast<ReceiptState>(row.integer(2)), row.text(3),
                            row.text(4)};
    }
  }
  if (settlement.failed_part != 0) return std::optional<Settlement>(settlement);
  std::sort(delivered.begin(), delivered.end());
  delivered.erase(std::unique(delivered.begin(), delivered.end()), delivered.end());
  if (static_cast<int>(delivered.size()) < settlement.parts) return std::optional<Settlement>();
  settlement.delivered = true;
  return std::optional<Settlement>(settlement);
}

Result<std::vector<std::string>> SmsStore::settled_references(const std::string& connector,
                                                              std::size_t limit) {
  auto rows = database_->query(
      "SELECT p.reference " BH_SMS_JOIN
      " WHERE p.connector = $1 GROUP BY p.reference HAVING (" BH_SMS_FAILED_ROWS
      " > 0 OR " BH_SMS_DELIVERED_PARTS
      " >= MAX(p.parts)) AND MAX(p.settled) = 0 ORDER BY MIN(p.created), p.reference "
      "LIMIT $3",
      {connector, kDelivered, static_cast<std::int64_t>(limit)});
  if (!rows) return failed(rows.error(), "settled references");
  std::vector<std::string> references;
  for (const store::Row& row : *rows) references.push_back(row.text(0));
  return references;
}

Status SmsStore::mark_settled(const std::string& connector, const std::string& reference) {
  auto done =
      database_->execute("UPDATE sms_parts SET settled = 1 WHERE connector = $1 AND reference = $2",
                         {connector, reference});
  if (!done) return failed(done.error(), "mark settled");
  return ok_status();
}

Status SmsStore::forget(const std::string& connector, const std::string& reference) {
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    auto receipts = c.execute(
        "DELETE FROM sms_receipts WHERE connector = $1 AND message_id IN (SELECT message_id "
        "FROM sms_parts WHERE connector = $1 AND reference = $2)",
        {connector, reference});
    if (!receipts) return receipts.error();
    auto parts = c.execute("DELETE FROM sms_parts WHERE connector = $1 AND reference = $2",
                           {connector, reference});
    if (!parts) return parts.error();
    return ok_status();
  });
  if (!done) return failed(done.error(), "forget");
  return ok_status();
}

Result<std::size_t> SmsStore::purge(std::int64_t before) {
  return purge(before, unix_now());
}

Result<std::size_t> SmsStore::purge(std::int64_t before, std::int64_t now) {
  std::int64_t removed = 0;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    const std::pair<const char*, std::int64_t> steps[] = {
        {"DELETE FROM sms_receipts WHERE received < $1", before},
        {"DELETE FROM sms_parts WHERE created < $1", before},
        // Parts whose mail could never be queued (the sweep tried every
        // time); the head rows go with them.
        {"DELETE FROM sms_inbound_parts WHERE received < $1", before},
        {"DELETE FROM sms_inbound_seen WHERE created < $1", now - kSeenSeconds},
        {"DELETE FROM sms_conversations WHERE updated < $1", now - kConversationSeconds},
    };
    for (const auto& [sql, bound] : steps) {
      auto deleted = c.execute(sql, {bound});
      if (!deleted) return deleted.error();
      removed += *deleted;
    }
    return ok_status();
  });
  if (!done) return failed(done.error(), "purge");
  return static_cast<std::size_t>(removed);
}

Status SmsStore::remember_conversation(const std::string& connector, const std::string& mailbox,
                                       const std::string& remote, const std::string& local,
                                       std::int64_t now) {
  // Two nodes remembering at once: the later SMS wins.
  auto done = database_->execute(
      "INSERT INTO sms_conversations (connector, mailbox, remote, local, updated) VALUES ($1, "
      "$2, $3, $4, $5) ON CONFLICT (connector, mailbox, remote) DO UPDATE SET local = $4, "
      "updated = $5 WHERE sms_conversations.updated <= $5",
      {connector, lower_ascii(mailbox), remote, local, now});
  if (!done) return failed(done.error(), "remember conversation");
  return ok_status();
}

Result<std::optional<std::string>> SmsStore::conversation_number(const std::string& connector,
                                                                 const std::string& mailbox,
                                                                 const std::string& remote) {
  auto rows = database_->query(
      "SELECT local FROM sms_conversations WHERE connector = $1 AND mailbox = $2 AND remote = $3",
      {connector, lower_ascii(mailbox), remote});
  if (!rows) return failed(rows.error(), "conversation");
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->front().text(0));
}

#undef BH_SMS_FAILED_ROWS
#undef BH_SMS_DELIVERED_PARTS
#undef BH_SMS_JOIN

}  // namespace bh::connectors::sms
