// The folder received faxes are dropped into (settings.ingest.directory):
// <name>.tif, then <name>.json with what the fax server knew about the
// call. The JSON is written last (by `bridgehead ingest fax` or a fax
// server: tmp file, fsync, rename), so a pair whose JSON exists is
// complete. A thread of the fax connector scans it:
//   queued                      -> both files removed (the mail is durable in the queue)
//   invalid, unknown, refused   -> both moved to rejected/ with <name>.reason, logged as an error
//   unavailable                 -> left for the next scan (logged once)
//   a job file that cannot be read -> tried at the next scans, rejected
//                                     after kUnreadableScans of them
// Nothing is dropped silently. The folder's writer is not trusted with the
// gateway's rights (ingest_files.hpp): links are not followed, and what is
// rejected goes to the gateway's own rejected/ (mode 0700); when rejected/
// is not the gateway's, nothing is moved and an error is logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "connectors/fax/fax_ingest.hpp"
#include "util/result.hpp"

namespace bh::connectors::fax {

// The folder of a connector's settings: ingest_directory, else the spool
// backend's incoming/, else <work_directory>/incoming.
std::filesystem::path ingest_directory_of(const FaxSettings& settings);

// The job file: {"called": "...", "caller": "...", "caller_name": "...",
// "tsi": "...", "received_at": 1764633600, "expected_tenant": "..."}.
// "called" is required; other keys, and values of other types, are
// refused. expected_tenant: the API's token's tenant (fax_ingest.hpp).
Result<ReceivedFax> parse_fax_job(std::string_view json);
// The job file for a fax (what `bridgehead ingest fax` writes).
std::string fax_job_json(const ReceivedFax& fax);

class IngestFolder {
 public:
  // Scans after which a job file that cannot be read is rejected.
  static constexpr int kUnreadableScans = 10;

  // What handles each complete pair (FaxIngest::ingest; a stand-in in tests).
  using IngestFunction = std::function<IngestAnswer(const ReceivedFax&)>;
  IngestFolder(std::filesystem::path directory, std::chrono::seconds poll, FaxIngest& ingest);
  IngestFolder(std::filesystem::path directory, std::chrono::seconds poll, IngestFunction ingest);
  ~IngestFolder();
  IngestFolder(const IngestFolder&) = delete;
  IngestFolder& operator=(const IngestFolder&) = delete;

  // The scanning thread: a scan at once, then every poll interval.
  void start();
  void stop();
  // One pass over the folder (the thread calls it; tests call it directly).
  void scan_once();

 private:
  void handle(const std::string& name);
  void reject(const std::string& name, const std::string& reason);
  void run();

  std::filesystem::path directory_;
  std::chrono::seconds poll_;
  IngestFunction ingest_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<std::string> deferred_;         // names whose `unavailable` was logged
  std::map<std::string, int> unreadable_;  // names whose job file could not be read: scans
  bool rejected_refused_logged_ = false;   // rejected/ is not the gateway's: logged once
};

}  // namespace bh::connectors::fax
