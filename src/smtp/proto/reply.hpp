// SMTP replies (RFC 5321 4.2) with enhanced status codes (RFC 3463).
#pragma once

#include <string>
#include <string_view>

namespace bh::smtp {

// Appends "CODE ENHANCED TEXT\r\n"; text may hold several lines separated by
// '\n', which become "CODE-..." continuation lines. enhanced may be empty.
void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text);

}  // namespace bh::smtp
