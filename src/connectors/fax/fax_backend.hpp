// Where rendered faxes go: a HylaFAX server (hylafax_backend.*) or a hot
// folder (spool_backend.*). Blocking calls, made from the connector's
// worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "render/page_format.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax {

struct FaxSubmission {
  std::string number;  // E.164, "+4930123456"
  std::filesystem::path tiff;
  int pages = 0;
  render::PageFormat format;
  // Bridgehead's id for the job, the same for every attempt at this
  // recipient of this queue file (connectors/delivery_tag.hpp). A backend
  // hands over at most one job per tag: submit() first looks for a job
  // with this tag and returns it.
  std::string tag;
  std::string sender;      // the mail's envelope sender, for the fax server's log
  std::string subaddress;  // T.33 sub-address (digits, RFC 3192 T33S), empty: none
};

// Why a submission failed: a transient failure (server down, faxq
// unreachable) is retried; a permanent one (the server refuses the number
// or the document) bounces.
struct SubmitFailure {
  bool permanent = false;
  std::string status;  // enhanced status code, "4.4.1" or "5.3.0"
  std::string text;    // the server's reply or our reason
};

struct Submitted {
  std::string reference;  // the fax server's job id ("hylafax job id", spool job name)
};

// A job the fax server finished, with what it says about it.
struct FaxJobReport {
  std::string reference;
  std::string number;       // E.164 the job called, when the server says (for the diagnostic)
  bool sent = false;        // done (all pages sent) or failed
  std::string status_text;  // HylaFAX's STATUS, or the result file's text
  int status_code = -1;     // HylaFAX's STATUSCODE (faxd/STATUS.txt), -1 unknown
  int pages_sent = 0;
  int pages_total = 0;
  std::string remote_csid;  // the receiver's CSID, when the server reports it
  std::chrono::seconds duration{0};
};

class FaxBackend {
 public:
  virtual ~FaxBackend() = default;
  // Hands the job over; on success the recipient becomes pending with
  // the reference. Idempotent per submission.tag: when a job with that tag
  // is already at the fax server (an earlier attempt whose result was lost
  // to a crash, a stop or a lost reply), its reference is returned and no
  // second job is created, so a retry never sends a second fax.
  virtual std::variant<Submitted, SubmitFailure> submit(const FaxSubmission& submission) = 0;
  // Jobs that have finished since they were submitted (and not yet
  // forgotten). An error: the server could not be asked (logged, asked again).
  virtual Result<std::vector<FaxJobReport>> finished() = 0;
  // After the report is durable (PendingSink::resolve returned true): the
  // job is removed from the server's done queue or the result file deleted,
  // so it is not reported again.
  virtual Status forget(const std::string& reference) = 0;
  // Whether finished() and forget() may run while a submit() is in
  // progress (the backend locks its own state). False: the connector makes
  // one backend call at a time, so a slow poll holds up submissions.
  virtual bool polls_alongside_submissions() const { return false; }
};

}  // namespace bh::connectors::fax
