#include "connectors/sms/sms_store.hpp"

#include <algorithm>

namespace bh::connectors::sms {
namespace {

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
       "  mailbox TEXT NOT NULL, remote TEXT NOT NULL, local TEXT NOT NULL,"
       "  updated BIGINT NOT NULL, PRIMARY KEY (mailbox, remote));"
       "CREATE TABLE sms_inbound_parts ("
       "  connector TEXT NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL,"
       "  reference BIGINT NOT NULL, total BIGINT NOT NULL, sequence BIGINT NOT NULL,"
       "  text TEXT NOT NULL DEFAULT '', received BIGINT NOT NULL,"
       "  PRIMARY KEY (connector, source, destination, reference, total, sequence));",
       {}},
  };
  return steps;
}

Error failed(const Error& error, const std::string& what) {
  return Error{"sms store: " + what + ": " + error.message, error.code};
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

InboundMessage key_of(const InboundPart& part) {
  InboundMessage message;
  message.source = part.source;
  message.destination = part.destination;
  message.reference = part.reference;
  message.total = part.total;
  return message;
}

}  // namespace

Result<std::unique_ptr<SmsStore>> SmsStore::open(std::shared_ptr<store::Database> database) {
  if (Status migrated = database->migrate("sms", migrations()); !migrated)
    return failed(migrated.error(), "open");
  return std::unique_ptr<SmsStore>(new SmsStore(std::move(database)));
}

Result<std::vector<PartRecord>> SmsStore::parts_of(const std::string& connector,
                                                   const std::string& reference) {
  auto rows = database_->query(
      "SELECT message_id, part, parts FROM sms_parts WHERE connector = $1 AND reference = $2 "
      "ORDER BY part, message_id",
      {connector, reference});
  if (!rows) return failed(rows.error(), "parts");
  std::vector<PartRecord> parts;
  for (const store::Row& row : *rows)
    parts.push_back(
        {row.text(0), static_cast<int>(row.integer(1)), static_cast<int>(row.integer(2))});
  return parts;
}

Status SmsStore::add_part(const std::string& connector, const std::string& reference,
                          const PartRecord& part, std::int64_t now) {
  // An id the SMSC gives again (after years, or a restarted SMSC) now
  // names this part.
  auto done = database_->execute(
      "INSERT INTO sms_parts (connector, message_id, reference, part, parts, created) VALUES "
      "($1, $2, $3, $4, $5, $6) ON CONFLICT (connector, message_id) DO UPDATE SET reference = "
      "$3, part = $4, parts = $5, created = $6",
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
  auto rows =
      database_->query("SELECT p.reference " BH_SMS_JOIN
                       " WHERE p.connector = $1 GROUP BY p.reference HAVING " BH_SMS_FAILED_ROWS
                       " > 0 OR " BH_SMS_DELIVERED_PARTS
                       " >= MAX(p.parts) ORDER BY MIN(p.created), p.reference "
                       "LIMIT $3",
                       {connector, kDelivered, static_cast<std::int64_t>(limit)});
  if (!rows) return failed(rows.error(), "settled references");
  std::vector<std::string> references;
  for (const store::Row& row : *rows) references.push_back(row.text(0));
  return references;
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
  std::int64_t removed = 0;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    auto receipts = c.execute("DELETE FROM sms_receipts WHERE received < $1", {before});
    if (!receipts) return receipts.error();
    auto parts = c.execute("DELETE FROM sms_parts WHERE created < $1", {before});
    if (!parts) return parts.error();
    removed = *receipts + *parts;
    return ok_status();
  });
  if (!done) return failed(done.error(), "purge");
  return static_cast<std::size_t>(removed);
}

Status SmsStore::remember_conversation(const std::string& mailbox, const std::string& remote,
                                       const std::string& local, std::int64_t now) {
  // Two nodes remembering at once: the later SMS wins.
  auto done = database_->execute(
      "INSERT INTO sms_conversations (mailbox, remote, local, updated) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (mailbox, remote) DO UPDATE SET local = $3, updated = $4 WHERE "
      "sms_conversations.updated <= $4",
      {lower_ascii(mailbox), remote, local, now});
  if (!done) return failed(done.error(), "remember conversation");
  return ok_status();
}

Result<std::optional<std::string>> SmsStore::conversation_number(const std::string& mailbox,
                                                                 const std::string& remote) {
  auto rows =
      database_->query("SELECT local FROM sms_conversations WHERE mailbox = $1 AND remote = $2",
                       {lower_ascii(mailbox), remote});
  if (!rows) return failed(rows.error(), "conversation");
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->front().text(0));
}

Result<std::optional<InboundMessage>> SmsStore::add_inbound_part(const std::string& connector,
                                                                 const InboundPart& part) {
  if (part.total < 1 || part.sequence < 1 || part.sequence > part.total)
    return Error{"sms store: add inbound part: part " + std::to_string(part.sequence) + " of " +
                 std::to_string(part.total) + " is not a part"};
  std::optional<InboundMessage> complete;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    const store::Params key = {connector, part.source, part.destination,
                               std::int64_t{part.reference}, std::int64_t{part.total}};
    store::Params head = key;
    head.push_back(part.received_at);
    auto locked = c.execute(
        "INSERT INTO sms_inbound_parts (connector, source, destination, reference, total, "
        "sequence, received) VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (connector, source, "
        "destination, reference, total, sequence) DO UPDATE SET received = "
        "sms_inbound_parts.received",
        head);
    if (!locked) return locked.error();
    store::Params row = key;
    row.insert(row.end(), {std::int64_t{part.sequence}, part.text, part.received_at});
    // A part that came before keeps its text (the SMSC sent it again).
    auto added = c.execute(
        "INSERT INTO sms_inbound_parts (connector, source, destination, reference, total, "
        "sequence, text, received) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT "
        "(connector, source, destination, reference, total, sequence) DO NOTHING",
        row);
    if (!added) return added.error();
    auto rows = c.query(
        "SELECT sequence, text, received FROM sms_inbound_parts WHERE connector = $1 AND source "
        "= $2 AND destination = $3 AND reference = $4 AND total = $5 AND sequence > 0 ORDER BY "
        "sequence",
        key);
    if (!rows) return rows.error();
    if (static_cast<std::int64_t>(rows->size()) < part.total) return ok_status();
    InboundMessage message = key_of(part);
    message.first_received_at = rows->front().integer(2);
    for (const store::Row& r : *rows) {
      InboundPart p = part;
      p.sequence = static_cast<int>(r.integer(0));
      p.text = r.text(1);
      p.received_at = r.integer(2);
      message.first_received_at = std::min(message.first_received_at, p.received_at);
      message.parts.push_back(std::move(p));
    }
    complete = std::move(message);
    return ok_status();
  });
  if (!done) return failed(done.error(), "add inbound part");
  return complete;
}

Result<std::vector<InboundMessage>> SmsStore::expired_inbound(const std::string& connector,
                                                              std::int64_t before) {
  auto rows = database_->query(
      "SELECT p.source, p.destination, p.reference, p.total, p.sequence, p.text, p.received "
      "FROM sms_inbound_parts p JOIN (SELECT source, destination, reference, total FROM "
      "sms_inbound_parts WHERE connector = $1 AND sequence > 0 GROUP BY source, destination, "
      "reference, total HAVING MIN(received) < $2 AND COUNT(*) < total) e ON e.source = "
      "p.source AND e.destination = p.destination AND e.reference = p.reference AND e.total = "
      "p.total WHERE p.connector = $1 AND p.sequence > 0 ORDER BY p.source, p.destination, "
      "p.reference, p.total, p.sequence",
      {connector, before});
  if (!rows) return failed(rows.error(), "expired inbound");
  std::vector<InboundMessage> messages;
  for (const store::Row& row : *rows) {
    InboundPart part{row.text(0),
                     row.text(1),
                     static_cast<int>(row.integer(2)),
                     static_cast<int>(row.integer(3)),
                     static_cast<int>(row.integer(4)),
                     row.text(5),
                     row.integer(6)};
    if (messages.empty() || messages.back().source != part.source ||
        messages.back().destination != part.destination ||
        messages.back().reference != part.reference || messages.back().total != part.total) {
      messages.push_back(key_of(part));
      messages.back().first_received_at = part.received_at;
    }
    InboundMessage& message = messages.back();
    message.first_received_at = std::min(message.first_received_at, part.received_at);
    message.parts.push_back(std::move(part));
  }
  return messages;
}

Status SmsStore::remove_inbound(const std::string& connector, const InboundMessage& message) {
  auto done = database_->execute(
      "DELETE FROM sms_inbound_parts WHERE connector = $1 AND source = $2 AND destination = $3 "
      "AND reference = $4 AND total = $5",
      {connector, message.source, message.destination, std::int64_t{message.reference},
       std::int64_t{message.total}});
  if (!done) return failed(done.error(), "remove inbound");
  return ok_status();
}

#undef BH_SMS_FAILED_ROWS
#undef BH_SMS_DELIVERED_PARTS
#undef BH_SMS_JOIN

}  // namespace bh::connectors::sms
