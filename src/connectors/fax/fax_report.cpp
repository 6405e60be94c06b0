#include "connectors/fax/fax_report.hpp"

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "util/printable.hpp"

namespace bh::connectors::fax {
namespace {

// Text from the fax server (status, CSID) at most this long goes into the
// DSN, the log, the trace and the pending store.
constexpr std::size_t kMaxServerText = 200;

// That text printable, without the quotes the diagnostic puts around it. It
// is cut first, at a character boundary, so that neither a UTF-8 character
// nor a \xHH escape is split.
std::string cleaned(std::string_view text) {
  std::string out = printable(utf8_prefix(text, kMaxServerText));
  for (char& c : out)
    if (c == '"') c = '\'';
  return out;
}

std::string destination(const FaxJobReport& report) {
  return report.number.empty() ? std::string()
                               : " to " + directory::international_format(report.number);
}

}  // namespace

std::string failed_job_status(int code) {
  if (code == 325 || code == 333 || code == 334) return "5.4.7";
  if (code == 327) return "5.1.3";
  if (code >= 0 && code < 300) return "5.4.0";
  return "5.3.0";
}

RecipientResult result_of_report(const FaxJobReport& report, SuccessNotice notice,
                                 const std::string& server) {
  RecipientResult result;
  result.remote_mta = server;
  result.diagnostic_type = "x-fax";  // the fax server's words, not an SMTP reply
  std::string pages = fmt::format("{} of {} pages", report.pages_sent, report.pages_total);
  if (report.sent) {
    result.outcome = Outcome::delivered;
    result.status = "2.0.0";
    result.success_action = "delivered";
    result.report = notice == SuccessNotice::report;
    // The sender reads "Your " + this as the report's first line (mail/dsn.cpp).
    result.diagnostic = fmt::format("fax{} was sent: {}", destination(report), pages);
    // 0 is "unknown" (a HylaFAX session log the connector may not read, a spool result without it).
    if (report.duration.count() > 0)
      result.diagnostic += fmt::format(" in {} s", report.duration.count());
    if (!report.remote_csid.empty())
      result.diagnostic += fmt::format(", remote station \"{}\"", cleaned(report.remote_csid));
    return result;
  }
  result.outcome = Outcome::bounced;
  result.status = failed_job_status(report.status_code);
  std::string text = report.status_text.empty() ? "no reason given" : cleaned(report.status_text);
  result.diagnostic = fmt::format("fax{} failed at {}: {}", destination(report), server, text);
  if (report.status_code >= 0) result.diagnostic += fmt::format(" (status {})", report.status_code);
  result.diagnostic += fmt::format(", {} sent", pages);
  return result;
}

}  // namespace bh::connectors::fax
