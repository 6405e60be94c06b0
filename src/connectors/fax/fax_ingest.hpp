// Fax -> mail (issue 10): a received fax (a TIFF and what the fax server
// knows about the call) becomes a mail to the mailbox that owns the called
// number, through the intake pipeline like every message. Three sources
// hand faxes in: HylaFAX's FaxDispatch hook (`bridgehead ingest fax`, which
// drops the fax into the spool folder), the spool folder's incoming/, and
// POST /v1/ingest/fax on the admin API (which drops the fax into the
// folder too). Blocking: rendering the PDF runs the render helper, the
// enqueue waits for the group commit (at most kCommitWait).
//
// At least once: when the gateway stops (or crashes) after the group
// commit wrote the mail but before the folder removed the fax, the fax is
// mailed again at the next start. Its Message-ID is derived from the fax
// (fax_message_id_left), so the copy has the same Message-ID and the
// mailbox can drop it as a duplicate.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/fax/fax_settings.hpp"
#include "directory/directory.hpp"

namespace bh::intake {
class Ingest;
}

namespace bh::connectors::fax {

struct ReceivedFax {
  // Read (without following a symlink; refused unless a regular file with
  // one link), never changed or removed here.
  std::filesystem::path tiff;
  std::string called;       // the number that was called (DID), any format libphonenumber reads
  std::string caller;       // caller id number, if known
  std::string caller_name;  // caller id name, if known
  std::string tsi;          // the sending station's identifier, if known
  std::int64_t received_at = 0;  // unix seconds; 0: the TIFF's modification time
  std::string source;            // "folder", "api": for the log and the trace
  // Only a number of this tenant's may be the fax's (the API's token's
  // tenant, checked again at the one lookup that chooses the mailbox);
  // "": any number, and the catch-all.
  std::string expected_tenant;
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

// Whose mailbox the fax to `called` (E.164) goes to: the number's owner
// (unless the number is for SMS only), else the catch-all. With an
// expected tenant only the tenant's own numbers: anything else is refused.
struct MailboxChoice {
  IngestStatus status = IngestStatus::queued;  // queued: found; else why not
  std::string mailbox;
  std::string tenant;
  std::string reason;
};
MailboxChoice choose_mailbox(const directory::DirectoryView& directory, const std::string& called,
                             const IngestSettings& settings, const std::string& expected_tenant);

// The Message-ID's left side for a fax: hex of SHA-256 over the TIFF, the
// called number and the time it was received (32 hex digits). The same fax
// ingested twice gets the same Message-ID.
std::string fax_message_id_left(std::string_view tiff, std::string_view called,
                                std::int64_t received_at);

class FaxIngest {
 public:
  // How long an ingest waits for the group commit's answer (which comes
  // within a batch interval): after it, the fax is `unavailable` and stays
  // in the folder for the next scan.
  static constexpr std::chrono::seconds kCommitWait{60};

  FaxIngest(const FaxSettings& settings, intake::Ingest& ingest,
            const directory::DirectoryView& directory);
  IngestAnswer ingest(const ReceivedFax& fax);
  // The gateway stops: a wait for the queue ends with `unavailable` (the
  // executor that would answer it stops), and so does every ingest after
  // it, so the caller keeps the fax for the next start.
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
