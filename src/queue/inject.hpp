#pragma once

#include "queue/spool.hpp"

namespace bh::queue {

// Durably places a message the gateway made itself (a DSN) in incoming/:
// write to tmp/, fsync, rename, fsync the folder. Blocking.
Status inject(const Spool& spool, const Envelope& envelope, std::string_view content);

// Durably replaces the file of a message in state with new contents
// (fewer recipients, a flag set). Blocking.
Status rewrite(const Spool& spool, State state, const Envelope& envelope, std::string_view content);

}  // namespace bh::queue
