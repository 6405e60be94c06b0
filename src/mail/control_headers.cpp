#include "mail/control_headers.hpp"

#include <fmt/format.h>

namespace bh {

bool is_control_header(std::string_view name) {
  return istarts_with_ascii(name, "X-MS-Exchange-Organization-") ||
         istarts_with_ascii(name, "X-Bridgehead-");
}

std::vector<std::string> strip_control_headers(std::string& content, std::size_t& header_size,
                                               Audience audience) {
  if (audience == Audience::tenant) return {};
  std::size_t before = content.size();
  std::vector<std::string> removed = remove_header_fields(content, is_control_header);
  header_size -= before - content.size();  // only header fields are removed
  return removed;
}

std::size_t count_received(const HeaderBlock& header) {
  return header.all("Received").size();
}

bool too_many_received(const HeaderBlock& header, std::size_t limit) {
  return count_received(header) > limit;
}

HopCheck check_hops(const HeaderBlock& header, std::size_t limit) {
  HopCheck check;
  check.received = count_received(header);
  if (check.received <= limit) return check;
  check.exceeded = true;
  check.code = 554;
  check.enhanced = "5.4.6";
  check.reply = "Error: too many hops (loop detected)";
  check.reason = fmt::format("{} Received: fields, limit {}", check.received, limit);
  return check;
}

}  // namespace bh
