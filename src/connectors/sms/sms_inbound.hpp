// SMS -> mail: what becomes of a deliver_sm that is not a receipt. The
// text is decoded (sms_encoding), a part of a concatenated SMS is kept in
// the shared store until the rest arrive (sms_store), the number it was
// sent to is looked up in the directory (a number the directory knows goes
// to its owner, or is refused when it is for fax only; only a number the
// directory does not know goes to catch_all, else it is refused), the
// conversation is remembered for replies (not for the catch-all), and the
// mail (sms_mail) goes through the intake like every message. Blocking
// (the store and the group commit): runs on the connector's store thread.
//
// The answer says how to reply to the SMSC: ok only once the SMS (or its
// part) is durable, so nothing acknowledged is lost; a transient problem
// (store or directory unavailable, the queue full) asks the SMSC to try
// again; a permanent one refuses the SMS. What identifies each SMS taken
// (sms_key: sender, number, coding, user data with its part number) is
// kept (a single SMS for inbound.duplicate_window, a part of a
// concatenated one for kSeenSeconds): the SMSC sending it again (our ok
// came after its timeout) is answered ok without a second mail.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_settings.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"

namespace bh::intake {
class Ingest;
}

namespace bh::connectors::sms {

enum class InboundStatus {
  queued,       // the mail is durable in the spool (queue_id)
  part_kept,    // a part is durable in the store; the mail goes when the rest arrive
  refused,      // permanent: unknown number without catch-all, not text, policy refused
  unavailable,  // transient: the SMSC should send it again
  duplicate,    // taken before (the SMSC sent it again): ok, no second mail
};

struct InboundAnswer {
  InboundStatus status = InboundStatus::unavailable;
  std::string queue_id;
  std::string mailbox;
  std::string reason;
  // The deliver_sm_resp status: 0; ESME_RX_T_APPN; ESME_RINVDSTADR (unknown
  // number); ESME_RX_P_APPN (other refusals).
  std::uint32_t smpp_status = smpp::status::temporary_app_error;
};

class SmsInbound {
 public:
  SmsInbound(const SmsSettings& settings, intake::Ingest& ingest,
             const directory::DirectoryView& directory, SmsStore& store);

  // One deliver_sm (not a receipt). now: unix seconds. Logs one line.
  InboundAnswer receive(const smpp::ShortMessage& message, std::int64_t now);
  // Concatenated SMS older than reassembly_timeout: mailed with what came
  // (naming the missing parts), or whole when the last part came but its
  // mail could not be queued then. Called by the connector's sweep.
  void flush_expired(std::int64_t now);
  // The gateway stops: waits for the queue end with `unavailable`.
  void stop() { stopping_ = true; }

 private:
  // A message from the store (expired, or displaced by a reused reference)
  // mailed with what came; its parts go unless the answer is unavailable.
  // Logs one line.
  InboundAnswer mail_stored(const InboundMessage& message, std::int64_t now);

  const SmsSettings& settings_;
  intake::Ingest& ingest_;
  const directory::DirectoryView& directory_;
  SmsStore& store_;
  std::atomic<bool> stopping_{false};
};

const char* inbound_status_name(InboundStatus status);

}  // namespace bh::connectors::sms
