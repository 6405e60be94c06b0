// What HylaFAX's files tell about a finished job's call, best effort: the
// receiver's CSID from the job's queue file (doneq/q<id>, which hfaxd lets
// the job's owner RETR) and, through the commid recorded there, the call's
// duration (and the CSID when the queue file has none) from the call's
// session log (log/c<commid>, hylafax_log.hpp). hfaxd 6.0.7 lets a client
// RETR a session log only when the file's mode lets others read it
// (faxd's LogFileMode, 0600 by default) or the client holds ADMIN
// privileges (hylafax_admin_password_file). No JPARM and no JOBFMT letter
// gives the CSID or a duration.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "connectors/fax/hylafax_client.hpp"

namespace bh::connectors::fax::hylafax {

struct CallFacts {
  std::string remote_csid;           // "" unknown
  std::chrono::seconds duration{0};  // 0 unknown
  // A read failed in a way that leaves the control connection unusable
  // (network, timeout): the caller stops using it.
  bool connection_lost = false;
  std::size_t bytes_read = 0;  // of both files, for the poll's budget (hylafax_limits.hpp)
};

// Never fails: what cannot be read is left out (and logged at debug
// level, naming the job and the reason). with_session_log: also read the
// session log (for a job that was sent).
CallFacts read_call_facts(Client& client, const std::string& job_id, bool with_session_log,
                          std::string_view connector);

}  // namespace bh::connectors::fax::hylafax
