// The incoming half of the SMS store (sms_store.hpp): parts of
// concatenated SMS until their mail is queued, and the keys of SMS taken.
#include "connectors/sms/sms_store.hpp"

#include <algorithm>

namespace bh::connectors::sms {
namespace {

InboundMessage key_of(const InboundPart& part) {
  InboundMessage message;
  message.source = part.source;
  message.destination = part.destination;
  message.reference = part.reference;
  message.total = part.total;
  return message;
}

// The columns every read of sms_inbound_parts selects, in this order.
#define BH_SMS_PART_COLUMNS                                                                   \
  "p.source, p.destination, p.reference, p.total, p.sequence, p.text, p.received, p.number, " \
  "p.seen_key"

InboundPart part_of_row(const store::Row& row) {
  InboundPart part;
  part.source = row.text(0);
  part.destination = row.text(1);
  part.reference = static_cast<int>(row.integer(2));
  part.total = static_cast<int>(row.integer(3));
  part.sequence = static_cast<int>(row.integer(4));
  part.text = row.text(5);
  part.received_at = row.integer(6);
  part.sender_is_number = row.integer(7) != 0;
  part.seen_key = row.text(8);
  return part;
}

bool same_key(const InboundMessage& message, const InboundPart& part) {
  return message.source == part.source && message.destination == part.destination &&
         message.reference == part.reference && message.total == part.total;
}

// Rows of parts (sequence > 0, ordered by key and sequence) as messages.
std::vector<InboundMessage> messages_of(const store::Rows& rows) {
  std::vector<InboundMessage> messages;
  for (const store::Row& row : rows) {
    InboundPart part = part_of_row(row);
    if (messages.empty() || !same_key(messages.back(), part)) {
      messages.push_back(key_of(part));
      messages.back().first_received_at = part.received_at;
      messages.back().sender_is_number = true;
    }
    InboundMessage& message = messages.back();
    message.first_received_at = std::min(message.first_received_at, part.received_at);
    message.sender_is_number = message.sender_is_number && part.sender_is_number;
    message.parts.push_back(std::move(part));
  }
  return messages;
}

store::Params key_params(const std::string& connector, const InboundMessage& message) {
  return {connector, message.source, message.destination, std::int64_t{message.reference},
          std::int64_t{message.total}};
}

#define BH_SMS_KEY_MATCHES \
  "connector = $1 AND source = $2 AND destination = $3 AND reference = $4 AND total = $5"

// Upserting the head row locks the message until commit (see migrations()).
Status lock_message(store::Connection& c, const std::string& connector,
                    const InboundMessage& message, std::int64_t received) {
  const store::Params head = {connector,
                              message.source,
                              message.destination,
                              std::int64_t{message.reference},
                              std::int64_t{message.total},
                              received};
  auto locked = c.execute(
      "INSERT INTO sms_inbound_parts (connector, source, destination, reference, total, "
      "sequence, received) VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (connector, source, "
      "destination, reference, total, sequence) DO UPDATE SET received = "
      "sms_inbound_parts.received",
      head);
  if (!locked) return locked.error();
  return ok_status();
}

}  // namespace

Result<InboundAdded> SmsStore::add_inbound_part(const std::string& connector,
                                                const InboundPart& part) {
  if (part.total < 1 || part.sequence < 1 || part.sequence > part.total)
    return Error{"sms store: add inbound part: part " + std::to_string(part.sequence) + " of " +
                 std::to_string(part.total) + " is not a part"};
  InboundAdded added;
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    const store::Params key = key_params(connector, key_of(part));
    if (Status locked = lock_message(c, connector, key_of(part), part.received_at); !locked)
      return locked;
    auto read = [&]() -> Result<store::Rows> {
      return c.query("SELECT " BH_SMS_PART_COLUMNS
                     " FROM sms_inbound_parts p WHERE " BH_SMS_KEY_MATCHES
                     " AND sequence > 0 ORDER BY sequence",
                     key);
    };
    auto before = read();
    if (!before) return before.error();
    for (const store::Row& row : *before) {
      if (row.integer(4) != part.sequence) continue;
      // The same text: the SMSC sent the part again. Another: a new
      // message with a reused reference; the old one goes out first.
      if (row.text(5) != part.text) {
        added.outcome = InboundAdd::displaced;
        added.message = std::move(messages_of(*before).front());
        return ok_status();
      }
    }
    store::Params row = key;
    row.insert(row.end(), {std::int64_t{part.sequence}, part.text, part.received_at,
                           std::int64_t{part.sender_is_number ? 1 : 0}, part.seen_key});
    auto inserted = c.execute(
        "INSERT INTO sms_inbound_parts (connector, source, destination, reference, total, "
        "sequence, text, received, number, seen_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10) ON CONFLICT (connector, source, destination, reference, total, sequence) DO "
        "NOTHING",
        row);
    if (!inserted) return inserted.error();
    auto rows = read();
    if (!rows) return rows.error();
    if (static_cast<std::int64_t>(rows->size()) < part.total) return ok_status();
    added.outcome = InboundAdd::complete;
    added.message = std::move(messages_of(*rows).front());
    return ok_status();
  });
  if (!done) return failed(done.error(), "add inbound part");
  return added;
}

Result<std::vector<InboundMessage>> SmsStore::expired_inbound(const std::string& connector,
                                                              std::int64_t before) {
  // A complete message only once its last part is that old too: until
  // then the node that received the last part may still be queueing it.
  auto rows = database_->query(
      "SELECT " BH_SMS_PART_COLUMNS
      " FROM sms_inbound_parts p JOIN (SELECT source, destination, reference, total FROM "
      "sms_inbound_parts WHERE connector = $1 AND sequence > 0 GROUP BY source, destination, "
      "reference, total HAVING MIN(received) < $2 AND (COUNT(*) < total OR MAX(received) < $2)) "
      "e ON e.source = p.source AND e.destination = p.destination AND e.reference = "
      "p.reference AND e.total = p.total WHERE p.connector = $1 AND p.sequence > 0 ORDER BY "
      "p.source, p.destination, p.reference, p.total, p.sequence",
      {connector, before});
  if (!rows) return failed(rows.error(), "expired inbound");
  return messages_of(*rows);
}

Status SmsStore::remove_inbound(const std::string& connector, const InboundMessage& message,
                                std::int64_t now) {
  Status done = database_->transaction([&](store::Connection& c) -> Status {
    const store::Params key = key_params(connector, message);
    if (Status locked = lock_message(c, connector, message, now); !locked) return locked;
    // Only the parts that were mailed: one another node kept meanwhile
    // stays (and goes out on its own after reassembly_timeout).
    for (const InboundPart& part : message.parts) {
      const store::Params row = {connector,
                                 message.source,
                                 message.destination,
                                 std::int64_t{message.reference},
                                 std::int64_t{message.total},
                                 std::int64_t{part.sequence}};
      auto deleted = c.execute(
          "DELETE FROM sms_inbound_parts WHERE " BH_SMS_KEY_MATCHES " AND sequence = $6", row);
      if (!deleted) return deleted.error();
      if (part.seen_key.empty()) continue;
      auto seen = c.execute(
          "INSERT INTO sms_inbound_seen (connector, sms_key, created) VALUES ($1, $2, $3) ON "
          "CONFLICT (connector, sms_key) DO NOTHING",
          {connector, part.seen_key, now});
      if (!seen) return seen.error();
    }
    auto head = c.execute("DELETE FROM sms_inbound_parts WHERE " BH_SMS_KEY_MATCHES
                          " AND sequence = 0 AND NOT EXISTS (SELECT 1 FROM sms_inbound_parts q "
                          "WHERE q.connector = $1 AND q.source = $2 AND q.destination = $3 AND "
                          "q.reference = $4 AND q.total = $5 AND q.sequence > 0)",
                          key);
    if (!head) return head.error();
    return ok_status();
  });
  if (!done) return failed(done.error(), "remove inbound");
  return ok_status();
}

Result<bool> SmsStore::inbound_seen(const std::string& connector, const std::string& key,
                                    std::int64_t since) {
  auto rows = database_->query(
      "SELECT created FROM sms_inbound_seen WHERE connector = $1 AND sms_key = $2 AND created >= "
      "$3",
      {connector, key, since});
  if (!rows) return failed(rows.error(), "seen");
  return !rows->empty();
}

Status SmsStore::mark_inbound_seen(const std::string& connector, const std::string& key,
                                   std::int64_t now) {
  auto done = database_->execute(
      "INSERT INTO sms_inbound_seen (connector, sms_key, created) VALUES ($1, $2, $3) ON CONFLICT "
      "(connector, sms_key) DO NOTHING",
      {connector, key, now});
  if (!done) return failed(done.error(), "mark seen");
  return ok_status();
}

#undef BH_SMS_PART_COLUMNS
#undef BH_SMS_KEY_MATCHES

}  // namespace bh::connectors::sms
