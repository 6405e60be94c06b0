#include "connectors/fax/fax_report.hpp"

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "util/printable.hpp"

namespace bh::connectors::fax {
namespace {

// Text from the fax server (status, CSID) goes into the DSN and the log:
// printable, without the quotes the diagnostic puts around it.
std::string cleaned(std::string_view text) {
  std::string out = printable(text);
  for (char& c : out)
    if (c == '"') c = '\'';
  if (out.size() > 200) out.resize(200);
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
  std::string pages = fmt::format("{} of {} pages", report.pages_sent, report.pages_total);
  if (report.sent) {
    result.outcome = Outcome::delivered;
    result.status = "2.0.0";
    result.success_action = "delivered";
    result.report = notice == SuccessNotice::report;
    result.diagnostic =
        fmt::format("fax sent{}: {} in {} s", destination(report), pages, report.duration.count());
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
