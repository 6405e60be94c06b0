#pragma once

#include <string>
#include <string_view>

namespace bh {

// A new queue id: 16 upper-case hex digits of microsecond time followed by
// 4 of a process-wide counter. Unique within a process, increasing across
// restarts on a sane clock, and sortable by arrival.
std::string make_queue_id();

// Queue ids become file names, so anything else is refused.
bool valid_queue_id(std::string_view id);

}  // namespace bh
