// A connector's own id for one recipient of one queue file, the same at
// every attempt: the queue id and a hash of the recipient's address. Not
// its index, nor the queue file's generation: a rewrite of the queue file
// (another recipient's result, a pending reference, a delay DSN)
// renumbers the recipients left, and a retry after a lost reply must
// still find what it already handed over (a fax job, submitted SMS parts).
// Printable ASCII, usable as a file name and a pending reference.
#pragma once

#include <string>
#include <string_view>

namespace bh::connectors {

// "<queue id>.<16 hex digits>"; the address is compared case-insensitively.
std::string delivery_tag(const std::string& queue_id, std::string_view recipient);

}  // namespace bh::connectors
