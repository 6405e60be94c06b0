// Delivery status notifications (RFC 3464): multipart/report with a human
// part (UTF-8, quoted-printable), a message/delivery-status part (ASCII),
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

struct DsnRequest {
  DsnKind kind = DsnKind::failure;
  const Envelope* original = nullptr;
  std::string_view original_content;
  std::vector<DsnRecipient> recipients;
  std::string reporting_host;
  std::int64_t now = 0;
  std::int64_t will_retry_until = 0;  // delay reports only
  std::size_t return_limit = 50000;   // larger originals are returned as header only
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
