// Header hygiene on the way out, and the hop limit on the way in. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mail/header_block.hpp"

namespace bh {

// Who receives a delivery.
enum class Audience {
  tenant,    // Exchange Online: reads the control headers (transport rules, the stamp)
  partner,   // another organisation's system
  internet,  // anyone
};

// A name Exchange keeps inside an organisation (its header firewall removes
// them at the border, m365.md 3.3) or one of Bridgehead's own (X-Bridgehead-*,
// the processed stamp included).
bool is_control_header(std::string_view name);

// Toward partners and the internet removes every control header field
// (folded lines included, names compared case-insensitively); toward the
// tenant keeps them all. content's first header_size bytes are the header
// (the empty line included); header_size stays exact. Returns the names
// removed, as written, for the log.
std::vector<std::string> strip_control_headers(std::string& content, std::size_t& header_size,
                                               Audience audience);

// Received: fields in the header.
std::size_t count_received(const HeaderBlock& header);
// More than `limit` Received: fields (Bridgehead's own included, when it
// has added it) means a loop.
bool too_many_received(const HeaderBlock& header, std::size_t limit);

struct HopCheck {
  bool exceeded = false;
  std::size_t received = 0;  // Received: fields counted
  int code = 0;              // 554 when exceeded
  std::string enhanced;      // "5.4.6"
  std::string reply;         // "Error: too many hops (loop detected)"
  std::string reason;        // for the log: "51 Received: fields, limit 50"
};
HopCheck check_hops(const HeaderBlock& header, std::size_t limit);

}  // namespace bh
