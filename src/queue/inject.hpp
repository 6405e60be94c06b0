#pragma once

#include "queue/spool.hpp"

namespace bh::queue {

// A message the gateway made itself (a DSN) in two steps, so that a record
// in the done log can commit it in between: written and fsynced as
// tmp/<id>.new (invisible to the scheduler; recovery keeps it only when the
// done log commits it), then renamed into incoming/ and the folder fsynced.
Status write_pending(const Spool& spool, const Envelope& envelope, std::string_view content);
Status place_pending(const Spool& spool, const std::string& id);
std::filesystem::path pending_path(const Spool& spool, const std::string& id);

// Durably replaces the file of a message in state with new contents
// (fewer recipients, a flag set). Blocking.
Status rewrite(const Spool& spool, State state, const Envelope& envelope, std::string_view content);

}  // namespace bh::queue
