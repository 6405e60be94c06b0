#include "queue/recovery.hpp"

#include <cstdio>

#include "mail/queue_id.hpp"
#include "util/crash_point.hpp"
#include "util/log.hpp"

namespace bh::queue {
namespace {

void set_aside(const Spool& spool, const std::filesystem::path& from, const std::string& id,
               std::string_view reason) {
  auto target = spool.file(State::corrupt, id);
  std::rename(from.c_str(), target.c_str());
  log::Line("queue_recovery")
      .kv("id", id)
      .kv("action", "moved to corrupt")
      .kv("reason", reason)
      .write(log::Level::warn);
}

// A file in tmp/ that is complete and verified goes to incoming/.
bool queue_if_complete(const Spool& spool, const std::filesystem::path& path, const std::string& id,
                       RecoveryReport& report) {
  auto bytes = read_whole_file(path);
  if (!valid_queue_id(id) || !bytes) return false;
  auto message = parse_queue_file(*bytes);
  if (!message || message->envelope.queue_id != id ||
      std::rename(path.c_str(), spool.file(State::incoming, id).c_str()) != 0)
    return false;
  ++report.queued_from_tmp;
  crash_point("recovery.tmp_moved");
  return true;
}

}  // namespace

RecoveryReport recover(const Spool& spool, const std::set<std::string>& committed_dsns) {
  RecoveryReport report;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool.tmp_folder(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".rewrite")) {
      // An unfinished rewrite after a partial delivery: the original file is intact.
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (name.ends_with(".new")) {
      // A DSN the gateway wrote itself. The done log says whether it was
      // committed; one that was not is made again from the recorded results.
      std::string id = name.substr(0, name.size() - 4);
      if (!committed_dsns.contains(id)) {
        std::filesystem::remove(entry.path(), ec);
        ++report.uncommitted_dsns;
        continue;
      }
      if (queue_if_complete(spool, entry.path(), id, report)) continue;
      set_aside(spool, entry.path(), id, "half-written delivery status notification");
      ++report.half_written;
      continue;
    }
    if (name.ends_with(".ready")) {
      // A received message the queue writer completed: perhaps flushed and
      // acknowledged before the crash, so it is queued when it verifies.
      std::string id = name.substr(0, name.size() - 6);
      if (queue_if_complete(spool, entry.path(), id, report)) continue;
      std::filesystem::remove(entry.path(), ec);
      ++report.abandoned;
      continue;
    }
    if (name.ends_with(".part")) {
      // Still arriving: never acknowledged. Never trusted either, however
      // complete it looks (its bytes are the client's): removed.
      std::filesystem::remove(entry.path(), ec);
      ++report.abandoned;
      continue;
    }
    // Anything else was left by an older version, which renamed before its
    // flush: never acknowledged.
    set_aside(spool, entry.path(), name,
              "half-written (gateway stopped before the message was acknowledged)");
    ++report.half_written;
  }
  for (const std::string& id : spool.list(State::active)) {
    if (spool.move(id, State::active, State::incoming) == MoveResult::moved) {
      ++report.interrupted;
      crash_point("recovery.active_moved");
    }
  }
  for (State state : {State::incoming, State::deferred, State::hold}) {
    for (const std::string& id : spool.list(state)) {
      auto message = spool.load(state, id);
      if (!message) {
        set_aside(spool, spool.file(state, id), id, message.error().message);
        ++report.damaged;
      } else {
        ++report.intact;
      }
    }
  }
  if (report.half_written + report.damaged + report.interrupted > 0) {
    auto synced = sync_directory(spool.folder(State::corrupt));
    (void)synced;
  }
  if (report.queued_from_tmp + report.interrupted > 0) {
    auto synced = sync_directory(spool.folder(State::incoming));
    (void)synced;
  }
  log::Line("queue_recovered")
      .kv("intact", report.intact)
      .kv("half_written", report.half_written)
      .kv("damaged", report.damaged)
      .kv("interrupted_deliveries", report.interrupted)
      .kv("queued_from_tmp", report.queued_from_tmp)
      .kv("uncommitted_dsns", report.uncommitted_dsns)
      .kv("abandoned_receptions", report.abandoned)
      .write();
  return report;
}

}  // namespace bh::queue
