// What HylaFAX 6.0.7 writes about a call, as pure functions: its session
// log (log/c<commid>, one per call, faxd/FaxMachineLog.c++) and the
// receiver's CSID as the queue file keeps it. No I/O; hylafax_call.*
// fetches the files.
//
// A session log line is "Dec 02 16:41:07.23: [ 1234]: text": the
// server's local time (strftime "%h %d %T", no year; the month as the
// daemon's LC_TIME writes it, "Dez" in German), hundredths of a second,
// the process id, then what was traced. The lines read here:
//   "SESSION BEGIN 000000042 4930123456"  first line, always written
//   "DIAL +4930123456"                     the call is placed (protocol tracing)
//   "REMOTE CSI \"+49 30 999\""           the receiver's id (protocol tracing)
//   "SESSION END"                          last line, always written
// Debian's config (SessionTracing 11) includes protocol tracing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bh::connectors::fax::hylafax {

// T.30 station ids are at most 20 characters.
inline constexpr std::size_t kMaxCsidLength = 20;

// A CSID as a report may carry it: printable ASCII only (other bytes are
// dropped), spaces trimmed at both ends, cut to kMaxCsidLength. HylaFAX's
// placeholder "<UNSPECIFIED>" (the receiver sent none) is "".
std::string clean_csid(std::string_view raw);

// A commid as HylaFAX forms it ("%09u"): digits only, 1 to 20 of them, so
// "log/c" + commid names one file in log/.
bool valid_commid(std::string_view commid);

struct SessionFacts {
  std::string remote_csid;  // the last REMOTE CSI line, clean_csid()'d; "" none
  // From the first DIAL line to SESSION END (so it includes the ringing),
  // rounded to seconds, at least 1 s; nullopt when either line is missing,
  // a time stamp does not parse, or the span is negative or a day or more;
  // nullopt too when the clock changed during the call (summer time): a
  // line is stamped before the one above it or more than 25 min after it.
  std::optional<std::chrono::seconds> duration;
};

SessionFacts parse_session_log(std::string_view log);

}  // namespace bh::connectors::fax::hylafax
