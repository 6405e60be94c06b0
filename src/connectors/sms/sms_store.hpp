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
// - sms_conversations: who texted whom, per connector, for replies: a mail
//   from the mailbox to the remote number is sent from the number the last
//   SMS came in on (sms_outbound.hpp choose_source). Kept kConversationSeconds.
// - sms_inbound_parts: parts of a concatenated incoming SMS until their
//   mail is queued (sms_inbound.hpp: when the last part arrives, or by the
//   sweep after reassembly_timeout).
// - sms_inbound_seen: what identifies each incoming SMS whose mail is
//   queued (a part: once its message's mail is), for kSeenSeconds: an SMSC
//   that sends it again (our answer came too late for it) is answered ok
//   without a second mail.
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

// How long what identifies an incoming SMS is kept (the longest
// inbound_duplicate_window; an identical SMS within the window is the
// SMSC's copy of one whose answer came too late).
inline constexpr std::int64_t kSeenSeconds = 24 * 3600;
// How long a conversation chooses the reply's number after its last SMS.
inline constexpr std::int64_t kConversationSeconds = 90 * 24 * 3600;

struct PartRecord {
  std::string message_id;  // normalised
  int part = 1;            // 1-based
  int parts = 1;
  // parts_of: the reference was resolved (mark_settled); add_part ignores it.
  bool settled = false;
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
  int failed_part = 0;    // with !delivered: which part failed (1-based)
  ReceiptRecord failure;  // with !delivered: that part's receipt
};

// A part of an incoming concatenated SMS. key: what identifies the
// message: SMSC-side source and destination number and the reference.
struct InboundPart {
  std::string source;       // E.164 when sender_is_number, else as the SMSC gave it
  std::string destination;  // E.164
  int reference = 0;
  int total = 1;
  int sequence = 1;
  std::string text;  // UTF-8, decoded
  std::int64_t received_at = 0;
  // The source is a number one can text back (not an alphanumeric sender
  // such as "MyBank", which may look like "+4917..." too).
  bool sender_is_number = false;
  // What identifies the deliver_sm that carried the part (sms_mail.hpp
  // sms_identity): marked seen when the message's mail is queued.
  std::string seen_key;
};

struct InboundMessage {
  std::string source;
  std::string destination;
  int reference = 0;
  int total = 1;
  std::vector<InboundPart> parts;  // by sequence, those that arrived
  std::int64_t first_received_at = 0;
  bool sender_is_number = false;  // every part's source was a number
};

// What add_inbound_part did with a part.
enum class InboundAdd {
  kept,      // durable (or was already: the same text again); the message is not whole yet
  complete,  // durable, and the message is whole: `message`, to mail
  // Not kept: an older message with the same key holds another text at this
  // part's place (the sender's phone reused the reference). `message` is
  // that older message: mail it with what came, remove_inbound() it, then
  // add the part again.
  displaced,
};
struct InboundAdded {
  InboundAdd outcome = InboundAdd::kept;
  InboundMessage message;  // complete, displaced
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
  // failed) but that are not marked settled: the sweep settles what a
  // race between two nodes left.
  Result<std::vector<std::string>> settled_references(const std::string& connector,
                                                      std::size_t limit);
  // After the settlement is durable in the pending store: its parts stay
  // (parts_of still counts them, so a retry of a recipient deferred
  // meanwhile submits nothing and is pending at once: the scheduler then
  // applies the stored report) but settled_references() skips them; purge
  // removes them.
  Status mark_settled(const std::string& connector, const std::string& reference);
  // A recipient's result is final without a receipt (bounced, or delivered
  // at submit_sm_resp and recorded): parts and their receipts go.
  Status forget(const std::string& connector, const std::string& reference);
  // Rows past their time: receipts that never found a part, parts of
  // references never settled (their pending timeout passed) and incoming
  // parts that could not be mailed, all older than `before` (unix
  // seconds); seen rows older than kSeenSeconds and conversations older
  // than kConversationSeconds before `now`. The one-argument form takes
  // now from the clock.
  Result<std::size_t> purge(std::int64_t before, std::int64_t now);
  Result<std::size_t> purge(std::int64_t before);

  // Conversations of a connector, by mailbox (the primary address, any
  // case) and remote number (E.164): the local number the last SMS from
  // remote to the mailbox came in on.
  Status remember_conversation(const std::string& connector, const std::string& mailbox,
                               const std::string& remote, const std::string& local,
                               std::int64_t now);
  Result<std::optional<std::string>> conversation_number(const std::string& connector,
                                                         const std::string& mailbox,
                                                         const std::string& remote);

  // Incoming parts, idempotent per (key, sequence) with the same text.
  Result<InboundAdded> add_inbound_part(const std::string& connector, const InboundPart& part);
  // Messages, complete or not, whose first part came before `before`: an
  // incomplete one timed out, a complete one could not be queued when its
  // last part came. The sweep mails them.
  Result<std::vector<InboundMessage>> expired_inbound(const std::string& connector,
                                                      std::int64_t before);
  // After its mail is queued (or refused for good): the parts go, and their
  // seen keys are marked at `now` in the same transaction, so that a part
  // the SMSC sends again later is no new message.
  Status remove_inbound(const std::string& connector, const InboundMessage& message,
                        std::int64_t now);

  // Incoming SMS already taken: whether `key` was marked at or after `since`.
  // (Parts waiting in sms_inbound_parts are not marked yet: a part sent
  // again then is a duplicate there.)
  Result<bool> inbound_seen(const std::string& connector, const std::string& key,
                            std::int64_t since);
  // Once the SMS's mail (or part) is durable; idempotent (the first time counts).
  Status mark_inbound_seen(const std::string& connector, const std::string& key, std::int64_t now);

 private:
  explicit SmsStore(std::shared_ptr<store::Database> database) : database_(std::move(database)) {}
  // An error of the store, saying what failed.
  static Error failed(const Error& error, const std::string& what);
  std::shared_ptr<store::Database> database_;
};

}  // namespace bh::connectors::sms
