// Mail -> SMS and SMS -> mail over SMPP 3.4 (README.md in this folder).
// Threads: one io thread runs every bind (smpp_bind.hpp); one store thread
// does what blocks (text preparation, the shared store, the directory,
// the intake's wait). It works in rounds (sms_connector_impl.hpp): the
// parts, receipts and forgets queued meanwhile are written in one
// transaction (one fsync for all) and answered once it committed; then
// the other jobs run in their order, then the references the receipts
// settled are resolved. A receipt is so handled after the parts it
// reports on were recorded by this node.
//
// A delivery: per recipient its number (5.1.3), the text once per message
// (sms_outbound.hpp), the sender (the conversation's number, else the
// mailbox's first SMS service number, else source_address), then the
// parts not yet recorded for the recipient's tag (connectors/
// delivery_tag.hpp) are submitted through the ready binds (the parts of
// every recipient and request share the windows), each part recorded in
// the store as its submit_sm_resp comes; the recipient is then pending
// with its tag as reference. A receipt records its part's final state;
// once every part is delivered, or one failed, the reference is resolved
// through the PendingSink (a notice or a DSN) and forgotten. A sweep
// (every 10 s) settles what a race between nodes left (naming the number
// from the scheduler's pending entry), mails concatenated SMS whose parts
// timed out, and purges old rows.
//
// No receipt to wait for: with request_receipts = false, or when the SMSC
// accepted a part with status 0 but no message id (nothing a receipt could
// be matched to, so the reference could never settle), the recipient is
// delivered at its last submit_sm_resp (2.0.0, success_action "relayed").
// Its recorded parts stay until that result is durable
// (results_recorded), so a retry before then skips them; a part without
// an id cannot be recorded and is sent again by such a retry.
//
// Throttling (ESME_RTHROTTLED, ESME_RMSGQFUL) pauses that bind and puts
// the part back at the front; a part that finds no ready bind within
// submit_wait defers its recipient (4.4.1). A submit lost with its session
// defers the recipient too; the retry submits only the parts not recorded,
// so a part whose answer was lost can be sent twice (SMPP has no way to
// ask), nothing else.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/sms/sms_settings.hpp"
#include "util/result.hpp"

namespace bh::connectors::sms {

class SmsConnector final : public Connector {
 public:
  static Result<std::shared_ptr<SmsConnector>> create(const SmsSettings& settings);
  ~SmsConnector() override;

  void deliver(DeliveryRequest request, DeliveryDone done) override;
  void stop() override;
  void attach(PendingSink* sink) override;
  // Starts the binds: receipts and incoming SMS need the store and the
  // intake, so nothing binds before this.
  void attach_intake(const IntakeServices& services) override;
  // A recipient delivered at submit_sm_resp (no receipt to wait for) keeps
  // its parts' rows until then, so a retry cannot send them again.
  void results_recorded(const Envelope& envelope,
                        const std::vector<std::size_t>& recipients) override;

 private:
  explicit SmsConnector(const SmsSettings& settings);
  struct Impl;  // threads, binds, queues (sms_connector.cpp)
  std::unique_ptr<Impl> impl_;
};

}  // namespace bh::connectors::sms
