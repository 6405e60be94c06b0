// The trace as JSON documents (/v1/messages, `bridgehead trace --json`),
// every value encoded where it is written (util/json_string.hpp).
#pragma once

#include <string>

#include "trace/trace_store.hpp"

namespace bh::trace {

// {"messages": [summary, ...], "next": "ID" | null}
std::string page_json(const MessagePage& page);
// summary members plus "events": [...]
std::string trace_json(const MessageTrace& trace);

}  // namespace bh::trace
