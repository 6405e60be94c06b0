// What a finished fax job means for its recipient: a FaxJobReport (from
// HylaFAX or a spool result file) becomes the final RecipientResult that
// resolves the pending delivery. A job the server reports as failed has
// used up its tries (or kill time): the result is final, a bounce whose
// status follows HylaFAX's STATUSCODE (faxd/STATUS.txt). Pure.
#pragma once

#include <string>

#include "connectors/connector.hpp"
#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_settings.hpp"

namespace bh::connectors::fax {

// The enhanced status code of a failed job: 5.4.7 for time and attempts
// used up (325 kill time, 333/334 too many dials/tries), 5.1.3 for a
// number the server cannot dial (327), 5.3.0 for the document or the
// receiver's capabilities (317/335 pages, 321/347 conversion, 323/329 no
// document, 330 page width, 400-499 incompatible receiver), 344/345
// (removed by the operator) and server errors, 5.4.0 for calls and T.30
// sessions that failed (000-299: busy, no answer, protocol errors).
std::string failed_job_status(int status_code);

// server: where the job ran, for remote_mta and the text ("hylafax
// 127.0.0.1:4559", "spool /var/spool/fax").
RecipientResult result_of_report(const FaxJobReport& report, SuccessNotice notice,
                                 const std::string& server);

}  // namespace bh::connectors::fax
