// Fax -> mail (issue 10): a received fax (a TIFF and what the fax server
// knows about the call) becomes a mail to the mailbox that owns the called
// number, through the intake pipeline like every message. Three sources
// hand faxes in: HylaFAX's FaxDispatch hook (`bridgehead ingest fax`, which
// drops the fax into the spool folder), the spool folder's incoming/, and
// POST /v1/ingest/fax on the admin API. Blocking: rendering the PDF runs
// the render helper, the enqueue waits for the group commit.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "connectors/fax/fax_settings.hpp"

namespace bh::directory {
class DirectoryView;
}
namespace bh::intake {
class Ingest;
}

namespace bh::connectors::fax {

struct ReceivedFax {
  std::filesystem::path tiff;  // read, never changed or removed here
  std::string called;          // the number that was called (DID), any format libphonenumber reads
  std::string caller;          // caller id number, if known
  std::string caller_name;     // caller id name, if known
  std::string tsi;             // the sending station's identifier, if known
  std::int64_t received_at = 0;  // unix seconds; 0: now
  std::string source;            // "hylafax", "spool", "api": for the log and the trace
};

enum class IngestStatus {
  queued,          // queue_id is durable in the spool
  unknown_number,  // the directory knows no owner and there is no catch-all
  invalid,         // not a fax we can read (bad TIFF, too many pages, bad number): reason says
  unavailable,     // directory unavailable, helper could not run, disk full: try again later
  refused,         // the intake refused the mail (policy): reason has its reply
};

struct IngestAnswer {
  IngestStatus status = IngestStatus::unavailable;
  std::string queue_id;
  std::string mailbox;  // who it went to
  std::string reason;
};

class FaxIngest {
 public:
  FaxIngest(const FaxSettings& settings, intake::Ingest& ingest,
            const directory::DirectoryView& directory);
  IngestAnswer ingest(const ReceivedFax& fax);
  // The gateway stops: a wait for the queue ends with `unavailable` (the
  // executor that would answer it no longer runs), so the caller keeps the
  // fax for the next start.
  void stop() { stopping_ = true; }

 private:
  const FaxSettings& settings_;
  intake::Ingest& ingest_;
  const directory::DirectoryView& directory_;
  std::atomic<bool> stopping_{false};

  struct Facts;  // what the log line of each fax names (fax_ingest.cpp)
  IngestAnswer attempt(const ReceivedFax& fax, Facts& facts);
};

// Why a status, for logs and the admin API ("queued", "unknown_number", ...).
const char* ingest_status_name(IngestStatus status);

}  // namespace bh::connectors::fax
