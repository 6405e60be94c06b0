// Per-recipient results made durable as each connector answers (Postfix's
// "done" marks), and the DSNs committed for them, in one append-only log
// that all deliveries share: a writer thread writes what is waiting and
// makes it durable with one fdatasync, so concurrent deliveries share a
// flush, as the intake's group commit does.
//
// Each record names the queue file's generation. Rewriting a queue file
// (fewer recipients) raises its generation, which makes the older records
// obsolete: no record has to be removed in step with the queue file, and a
// crash between the two leaves nothing inconsistent. docs/queue.md has the
// whole protocol.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "queue/flush_tracker.hpp"
#include "util/result.hpp"

namespace bh::queue {

class Spool;

// A final result of one recipient (deferrals are not recorded: they are retried).
struct FinalResult {
  bool delivered = false;  // false: bounced
  std::string status;
  std::string remote_mta;
  std::string success_action;
  std::string diagnostic;
  std::string diagnostic_type = "smtp";  // RecipientResult::diagnostic_type
};

struct DoneRecord {
  std::string id;
  std::uint32_t generation = 0;
  // Either a recipient's result ...
  std::size_t index = 0;
  FinalResult result;
  // ... or, when dsn_kind is set, a DSN placed for this generation and the
  // recipients (indexes) it reports.
  std::string dsn_kind;  // "failure", "success", "delay"
  std::string dsn_id;
  std::vector<std::size_t> covers;
};

struct DsnMark {
  std::string kind;
  std::vector<std::size_t> covers;
};

// What is recorded for one message at one generation.
struct Marks {
  std::map<std::size_t, FinalResult> results;  // by recipient index
  std::map<std::string, DsnMark> dsns;         // by DSN queue id

  // Whether recipient index is in a committed DSN of this kind already.
  bool reported(std::string_view kind, std::size_t index) const {
    for (const auto& [id, mark] : dsns)
      if (mark.kind == kind &&
          std::find(mark.covers.begin(), mark.covers.end(), index) != mark.covers.end())
        return true;
    return false;
  }
};

class DoneLog {
 public:
  // flushes (optional): the intake's syncfs counter; a flush of it that
  // starts after a write makes the write durable, so the log shares it and
  // only flushes itself when none comes within its flush interval.
  explicit DoneLog(std::filesystem::path directory, FlushTracker* flushes = nullptr);
  ~DoneLog();

  // Reads the existing log files (after a crash), keeps the records of
  // messages still in the spool at that generation, writes them to a new
  // file and removes the old ones. Before start().
  Status open(const Spool& spool);
  void start();
  void stop();

  // done runs on the writer thread once the records are durable (or not).
  void append(std::vector<DoneRecord> records, std::function<void(Status)> done);
  Status append_and_wait(std::vector<DoneRecord> records);

  Marks marks(const std::string& id, std::uint32_t generation) const;
  // The message is finished: its records are no longer carried forward.
  void forget(const std::string& id);
  // Every DSN a record says was committed (recovery keeps their files).
  std::set<std::string> committed_dsns() const;

 private:
  struct Job {
    std::vector<DoneRecord> records;
    std::function<void(Status)> done;
  };
  struct Entry {
    std::uint32_t generation = 0;
    Marks marks;
  };

  void run();
  void apply(const DoneRecord& record);  // mutex_ held
  Status write_all(const std::string& bytes, bool share_flush = false);
  Status rotate();  // writer thread: a new file with the live records

  std::filesystem::path directory_;
  FlushTracker* flushes_ = nullptr;
  std::filesystem::path spool_root_;
  std::filesystem::path current_;
  std::uint64_t sequence_ = 0;
  int fd_ = -1;
  std::size_t written_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> pending_;
  bool stopping_ = false;
  std::unordered_map<std::string, Entry> entries_;
  std::thread thread_;
};

// One record as a log line, and back (nullopt: torn or damaged).
std::string format_done_record(const DoneRecord& record);
std::optional<DoneRecord> parse_done_record(std::string_view line);

}  // namespace bh::queue
