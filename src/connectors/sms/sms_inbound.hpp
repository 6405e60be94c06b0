// SMS -> mail: what becomes of a deliver_sm that is not a receipt. The
// text is decoded (sms_encoding), a part of a concatenated SMS is kept in
// the shared store until the rest arrive (sms_store), the number it was
// sent to is looked up in the directory (a user's mobile number or a
// service number; an unknown number goes to catch_all or is refused), the
// conversation is remembered for replies, and the mail (sms_mail) goes
// through the intake like every message. Blocking (the store and the
// group commit): runs on the connector's store thread.
//
// The answer says how to reply to the SMSC: ok only once the SMS (or its
// part) is durable, so nothing acknowledged is lost; a transient problem
// (store or directory unavailable, the queue full) asks the SMSC to try
// again; a permanent one refuses the SMS.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "connectors/sms/sms_settings.hpp"
#include "connectors/sms/sms_store.hpp"
#include "connectors/sms/smpp_pdu.hpp"
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
  // Concatenated SMS whose parts did not all arrive within
  // reassembly_timeout: mailed with what came. Called by the connector's sweep.
  void flush_expired(std::int64_t now);
  // The gateway stops: waits for the queue end with `unavailable`.
  void stop() { stopping_ = true; }

 private:
  const SmsSettings& settings_;
  intake::Ingest& ingest_;
  const directory::DirectoryView& directory_;
  SmsStore& store_;
  std::atomic<bool> stopping_{false};
};

const char* inbound_status_name(InboundStatus status);

}  // namespace bh::connectors::sms
