#pragma once

#include <set>
#include <string>

#include "queue/spool.hpp"

namespace bh::queue {

struct RecoveryReport {
  std::size_t half_written = 0;  // tmp/ leftovers moved to corrupt/
  std::size_t damaged = 0;       // failed verification, moved to corrupt/
  std::size_t interrupted = 0;   // active/ moved back to incoming/
  std::size_t intact = 0;
  std::size_t queued_from_tmp = 0;   // flushed messages and committed DSNs not yet renamed
  std::size_t uncommitted_dsns = 0;  // DSN files the done log never committed (made again)
  std::size_t abandoned = 0;         // messages still arriving when the gateway stopped (no 250)
};

// Runs once at start, before any session or delivery: a message that was
// never completely written is never delivered; it is moved aside and logged.
// committed_dsns: the DSNs the done log committed (DoneLog::committed_dsns()).
RecoveryReport recover(const Spool& spool, const std::set<std::string>& committed_dsns);

}  // namespace bh::queue
