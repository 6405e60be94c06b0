// What an SMS connector keeps in the store the nodes share (store/
// database.hpp; migrations of component "sms"), so that a receipt that
// arrives after a restart or at another node finds its mail:
//
// - sms_parts: each submitted part of a recipient's SMS, by the SMSC's
//   (normalised) message id: the recipient's pending reference, the part's
//   number and the count. A recipient's SMS is one pending reference (its
//   submission tag, connectors/delivery_tag.hpp) whatever number of parts it has.
// - sms_receipts: each receipt's final state by message id, also when it
//   came before its part was recorded (a receipt within milliseconds).
//   settle() joins the two: a reference is settled when any part failed
//   (the first failure reports) or every part was delivered.
// - sms_conversations: who texted whom, for replies: a mail from the
//   mailbox to the remote number is sent from the number the last SMS
//   came in on.
// - sms_inbound_parts: parts of a concatenated incoming SMS until the rest
//   arrive (or reassembly_timeout passes).
//
// Every call blocks (a transaction): call it from the connector's store
// thread, never from an I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sms/delivery_receipt.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::connectors::sms {

struct PartRecord {
  std::string message_id;  // normalised
  int part = 1;            // 1-based
  int parts = 1;
};

struct ReceiptRecord {
  std::string message_id;  // normalised
  ReceiptState state = ReceiptState::unknown;
  std::string error;
  std::string text;  // printable, for the diagnostic
};

// A reference whose parts are all reported (or one failed).
struct Settlement {
  std::string reference;
  bool delivered = false;
  int parts = 1;
  int failed_part = 0;     // with !delivered: which part failed (1-based)
  ReceiptRecord failure;   // with !delivered: that part's receipt
};

// A part of an incoming concatenated SMS. key: what identifies the
// message: SMSC-side source and destination number and the reference.
struct InboundPart {
  std::string source;       // E.164 or as the SMSC gave it
  std::string destination;  // E.164
  int reference = 0;
  int total = 1;
  int sequence = 1;
  std::string text;  // UTF-8, decoded
  std::int64_t received_at = 0;
};

struct InboundMessage {
  std::string source;
  std::string destination;
  int reference = 0;
  int total = 1;
  std::vector<InboundPart> parts;  // by sequence, those that arrived
  std::int64_t first_received_at = 0;
};

class SmsStore {
 public:
  // Applies the "sms" migrations.
  static Result<std::unique_ptr<SmsStore>> open(std::shared_ptr<store::Database> database);

  // The parts already submitted for reference (a retry after a crash or a
  // lost answer submits only the rest).
  Result<std::vector<PartRecord>> parts_of(const std::string& connector,
                                           const std::string& reference);
  // One part, durable when it returns (idempotent).
  Status add_part(const std::string& connector, const std::string& reference,
                  const PartRecord& part, std::int64_t now);
  // A final receipt, durable when it returns (idempotent; a later final
  // receipt for the same id replaces the earlier). Returns the reference
  // its part belongs to, if the part is recorded.
  Result<std::optional<std::string>> add_receipt(const std::string& connector,
                                                 const ReceiptRecord& receipt, std::int64_t now);
  // Whether reference is settled, and how. nullopt: parts still open.
  Result<std::optional<Settlement>> settle(const std::string& connector,
                                           const std::string& reference);
  // References of this connector whose parts all have receipts (or one
  // failed) but that forget() has not removed: the sweep settles what a
  // race between two nodes left.
  Result<std::vector<std::string>> settled_references(const std::string& connector,
                                                      std::size_t limit);
  // After the settlement is durable in the pending store: parts and their
  // receipts go.
  Status forget(const std::string& connector, const std::string& reference);
  // Rows older than `before` (unix seconds): receipts that never found a
  // part, parts of references never settled (their pending timeout passed).
  Result<std::size_t> purge(std::int64_t before);

  // Conversations, by mailbox (lower case) and remote number (E.164).
  Status remember_conversation(const std::string& mailbox, const std::string& remote,
                               const std::string& local, std::int64_t now);
  Result<std::optional<std::string>> conversation_number(const std::string& mailbox,
                                                         const std::string& remote);

  // Incoming parts. add_inbound_part is idempotent per (key, sequence) and
  // returns the message when it is now complete.
  Result<std::optional<InboundMessage>> add_inbound_part(const std::string& connector,
                                                         const InboundPart& part);
  // Incomplete messages whose first part came before `before`.
  Result<std::vector<InboundMessage>> expired_inbound(const std::string& connector,
                                                      std::int64_t before);
  // After its mail is queued.
  Status remove_inbound(const std::string& connector, const InboundMessage& message);

 private:
  explicit SmsStore(std::shared_ptr<store::Database> database) : database_(std::move(database)) {}
  std::shared_ptr<store::Database> database_;
};

}  // namespace bh::connectors::sms
