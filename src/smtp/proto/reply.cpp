#include "smtp/proto/reply.hpp"

#include <fmt/format.h>

namespace bh::smtp {

void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text) {
  while (true) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    bool last = newline == std::string_view::npos;
    fmt::format_to(std::back_inserter(out), "{}{}", code, last ? ' ' : '-');
    if (!enhanced.empty()) fmt::format_to(std::back_inserter(out), "{} ", enhanced);
    out.append(line);
    out.append("\r\n");
    if (last) break;
    text.remove_prefix(newline + 1);
  }
}

}  // namespace bh::smtp
