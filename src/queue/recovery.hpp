#pragma once

#include "queue/spool.hpp"

namespace bh::queue {

struct RecoveryReport {
  std::size_t half_written = 0;  // tmp/ leftovers moved to corrupt/
  std::size_t damaged = 0;       // failed verification, moved to corrupt/
  std::size_t interrupted = 0;   // active/ moved back to incoming/
  std::size_t intact = 0;
};

// Runs once at start, before any session or delivery: a message that was
// never completely written is never delivered; it is moved aside and logged.
RecoveryReport recover(const Spool& spool);

}  // namespace bh::queue
