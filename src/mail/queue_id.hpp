#pragma once

#include <string>
#include <string_view>

namespace bh {

// A new queue id: 16 upper-case hex digits of microsecond time, 4 of a
// process-wide counter, then (once set_queue_id_node() was called) 8 of the
// node's tag. Unique within a process, increasing across restarts on a sane
// clock, sortable by arrival, and not shared by two nodes of one store.
std::string make_queue_id();

// The node part of this process's queue ids: a hash (32-bit FNV-1a) of the
// node's name ([server] hostname, which differs per node). Nodes that share
// a store key their messages' trace by queue id, so two of them must not
// make the same id in the same microsecond. Called once at start, before
// the first id.
void set_queue_id_node(std::string_view node);
// "" before set_queue_id_node(); else its 8 hex digits.
std::string queue_id_node_tag();

// Queue ids become file names, so anything else is refused.
bool valid_queue_id(std::string_view id);

}  // namespace bh
