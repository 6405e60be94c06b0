// Mail -> SMS and SMS -> mail over SMPP 3.4 (README.md in this folder).
// Threads: one io thread runs every bind (smpp_bind.hpp) and the
// dispatcher (sms_dispatch.hpp); one store thread does what blocks on the
// shared store (text preparation, the directory, parts and receipts); one
// inbound thread takes incoming SMS into the intake (which waits for the
// intake's group commit) and mails timed-out parts, so that receipts and
// parts never wait behind it. The store thread works in rounds
// (sms_connector_impl.hpp): the parts, receipts and forgets queued
// meanwhile (at most 500) are written in one transaction
// (sms_group_commit.hpp: one fsync for all) and answered once it
// committed; then the other jobs run in their order, then the references
// the receipts settled are resolved (32 a round). A receipt is so handled
// after the parts it reports on were recorded by this node. A job that
// throws is answered alone (a delivery deferred 4.3.0, a part's record as
// failed, a deliver_sm ESME_RX_T_APPN); one posted after the thread ended
// is answered the same way at once.
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
// through the PendingSink (a notice or a DSN) and its parts are marked
// settled (kept until purge, 35 days): a retry of the recipient (deferred
// meanwhile) then submits nothing and is pending at once, and the
// scheduler applies the report it holds. A sweep (sweep_interval, 10 s)
// settles what a race between nodes left (naming the number from the
// scheduler's pending entry), mails concatenated SMS whose parts timed
// out, and purges old rows.
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
// submit_wait defers its recipient (4.4.1, saying whether no bind was up
// or every bind was busy). A submit without an answer within
// response_timeout defers its recipient (4.4.2), but an answer that still
// comes on the same session records the part; three such timeouts in a
// row close the bind, which binds again. A submit lost with its session
// defers the recipient too. The retry submits only the parts not
// recorded, so what can be sent twice is a part whose answer never came
// on its session (it closed first, or the retry came before the late
// answer: SMPP has no way to ask), and a part accepted without a message
// id when the recipient is retried for another part; nothing else.
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
