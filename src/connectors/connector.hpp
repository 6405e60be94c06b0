// The one interface every delivery adapter implements: take a message and
// some of its recipients, report per recipient what became of them, by
// calling done exactly once (from any thread). Anything not positively
// final is a deferral.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/spool_format.hpp"

namespace bh::directory {
class DirectoryView;
}
namespace bh::intake {
class Ingest;
}
namespace bh::store {
class Database;
}

namespace bh::connectors {

// The longest pending_timeout a connector may have (server/config_connectors.cpp
// refuses more); what a connector keeps per pending delivery may be purged
// after it plus its own margin whatever connector wrote it.
inline constexpr std::int64_t kMaxPendingTimeoutSeconds = 30 * 86400;

// pending: a foreign system took the message and reports later (a fax job
// id, an SMPP message id, a webhook's 202): the recipient waits, durably,
// with reference, until the connector calls PendingSink::resolve() or the
// connector's pending_timeout passes (then it bounces with a DSN).
enum class Outcome { delivered, deferred, bounced, pending };

// As the log and the trace name it.
inline std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::delivered:
      return "delivered";
    case Outcome::bounced:
      return "bounced";
    case Outcome::deferred:
      return "deferred";
    case Outcome::pending:
      return "pending";
  }
  return "deferred";
}

struct RecipientResult {
  Outcome outcome = Outcome::deferred;
  std::string status;      // enhanced status code, "2.0.0"
  std::string diagnostic;  // the peer's reply or our reason, for the log and the DSN
  std::string remote_mta;  // the host that answered, if any
  // For NOTIFY=SUCCESS: "delivered" (final delivery), "relayed" (handed to a
  // hop that will not report), or empty (the next hop reports itself).
  std::string success_action;
  // With delivered: send the sender a short success report even without
  // NOTIFY=SUCCESS, unless NOTIFY=NEVER (a fax connector's success_notice =
  // "report": pages, duration and the remote station, in diagnostic).
  bool report = false;
  // With deferred: keep the message in hold/ for the administrator instead
  // of retrying (its route is gone); diagnostic says why.
  bool hold = false;
  // With pending: the foreign system's id for this delivery, unique within
  // the connector (printable ASCII, at most 200 bytes).
  std::string reference;
  // With pending, set by the scheduler: the connector, and when it gives up
  // waiting for the report (unix seconds).
  std::string pending_connector;
  std::int64_t pending_deadline = 0;
  // The DSN's diagnostic-type for diagnostic (RFC 3464 2.3.6): "smtp" when
  // it is an SMTP reply (or our own reason: without remote_mta the DSN
  // writes "x-bridgehead"), an "x-" type for other peers ("x-fax", "x-http").
  std::string diagnostic_type = "smtp";
};

// Where a connector reports the final result of a pending recipient when
// its foreign system tells it (a fax job's end, a delivery receipt, a
// webhook callback): result.outcome is delivered or bounced. Thread-safe,
// blocking (a durable write). A report may come before the pending result
// itself is recorded; it is kept until then. Returns false when it could
// not be recorded: the connector lets its peer send it again.
class PendingSink {
 public:
  virtual ~PendingSink() = default;
  virtual bool resolve(const std::string& connector, const std::string& reference,
                       const RecipientResult& result) = 0;
};

struct DeliveryRequest {
  std::shared_ptr<const queue::QueuedMessage> message;
  std::vector<std::size_t> recipients;  // indexes into message->envelope.recipients

  const Envelope& envelope() const { return message->envelope; }
  std::string_view content() const { return message->content; }
};

using DeliveryDone = std::function<void(std::vector<RecipientResult>)>;
using RecordedCheck =
    std::function<bool(const std::string& id, std::uint32_t generation, std::size_t index)>;

class Connector {
 public:
  virtual ~Connector() = default;
  virtual void deliver(DeliveryRequest request, DeliveryDone done) = 0;
  virtual void stop() {}
  // Before the first delivery: where this connector reports pending results.
  virtual void attach(PendingSink* sink) {}
  // Before the first delivery, for connectors that also bring messages in
  // (an incoming fax or SMS): the intake to submit them to and the
  // directory to find their mailbox in. Both outlive the connector. store:
  // the store the nodes share, for a connector's own tables (an SMS
  // connector's message ids, conversations and incoming parts).
  struct IntakeServices {
    intake::Ingest* ingest = nullptr;
    const directory::DirectoryView* directory = nullptr;
    std::shared_ptr<store::Database> store;
  };
  virtual void attach_intake(const IntakeServices& services) {}
  // Called once the final results of a delivery of this message are durable
  // (on a delivery thread): a connector that delivers into a local store
  // makes its delivery visible only now, so a crash cannot repeat it.
  virtual void results_recorded(const Envelope& envelope,
                                const std::vector<std::size_t>& recipients) {}
  // At start, before any delivery: settles what a crash left half done.
  // recorded(id, generation, index) tells whether the delivery of recipient
  // index of that generation of message id was recorded as delivered (or
  // the message has moved on since: gone, or rewritten after its outcome).
  virtual void recover(const RecordedCheck& recorded) {}

  // Something the connector kept for the sender's success report of a
  // pending delivery (a fax connector's thumbnail of page one), by the
  // delivery's reference: asked for (blocking, on a delivery thread) when
  // that report is written, so the bytes live in the connector's own store
  // and never in the queue file, the done log or the pending store, which
  // carry only the reference. None: nothing kept, or it cannot be read (the
  // report goes without it).
  struct ReportAttachment {
    std::string content_type;  // "image/png"
    std::string filename;      // "page1-4930123456.png"
    std::string description;   // "page one of the fax to +49 30 123456"
    std::string bytes;
  };
  virtual std::optional<ReportAttachment> report_attachment(const std::string& reference) {
    return std::nullopt;
  }
  // The pending delivery with this reference is final and the reports about
  // it are durable (or none was wanted): what was kept for them can go.
  virtual void report_written(const std::string& reference) {}
};

// All recipients of a request share one result.
inline std::vector<RecipientResult> same_for_all(const DeliveryRequest& request,
                                                 RecipientResult result) {
  return std::vector<RecipientResult>(request.recipients.size(), result);
}

}  // namespace bh::connectors
