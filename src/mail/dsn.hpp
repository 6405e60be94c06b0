// Delivery status notifications (RFC 3464): multipart/report with a human
// part (UTF-8, quoted-printable; a success report with attachments makes it
// multipart/mixed: that text, then each attachment inline in base64), a
// message/delivery-status part (ASCII),
// and the original message (RET=FULL or unspecified, up to a size limit) or
// its header (RET=HDRS). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mail/envelope.hpp"

namespace bh {

enum class DsnKind { failure, delay, success };

struct DsnRecipient {
  Recipient recipient;
  std::string action;      // "failed", "delayed", "delivered", "relayed", "expanded"
  std::string status;      // "5.1.1"
  std::string remote_mta;  // host name of the peer that answered, may be empty
  std::string diagnostic;  // the peer's reply, or our own reason (UTF-8)
  // RFC 3464 2.3.6 diagnostic-type of diagnostic: "smtp" for an SMTP reply
  // (without remote_mta: our own reason, written "x-bridgehead"), else an
  // "x-" type ("x-fax", "x-smpp").
  std::string diagnostic_type = "smtp";
  // RecipientResult::report (a connector's success_notice = "report"): a
  // success DSN of such recipients reads as a short report, "Your " and
  // the diagnostic first ("Your SMS to +49 170 1234567 was delivered."). A
  // fax success (x-fax) always reads so.
  bool report = false;
};

// An inline part after the text of a success report (a fax's page one).
struct DsnAttachment {
  std::string content_type;  // "image/png" (type/subtype tokens, else application/octet-stream)
  std::string filename;      // "page1.png" (letters, digits, '.', '-', '_')
  std::string description;   // "page one of the fax to +49 30 123456" (UTF-8)
  std::string bytes;
};

// The most attachment bytes one success report carries (the reports are
// queued and delivered like any mail); the ones past it are left out.
constexpr std::size_t kMaxReportAttachmentBytes = 2u << 20;

struct DsnRequest {
  DsnKind kind = DsnKind::failure;
  const Envelope* original = nullptr;
  std::string_view original_content;
  std::vector<DsnRecipient> recipients;
  std::string reporting_host;
  std::int64_t now = 0;
  std::int64_t will_retry_until = 0;  // delay reports only
  std::size_t return_limit = 50000;   // larger originals are returned as header only
  // Success reports only (a failure or delay DSN never carries them): the
  // human-readable part becomes multipart/mixed, the text and then each of
  // these inline (base64).
  std::vector<DsnAttachment> attachments;
};

// Whether a recipient asked for this kind of report (RFC 3461 4.1: without
// NOTIFY, failures and delays are reported, successes are not).
bool dsn_wanted(const Recipient& recipient, DsnKind kind);

// The complete message (header and body, CRLF) to send from the null sender
// to the original envelope sender.
std::string build_dsn(const DsnRequest& request, const std::string& dsn_queue_id);

// Envelope for that message.
Envelope dsn_envelope(const DsnRequest& request, const std::string& dsn_queue_id);

}  // namespace bh
