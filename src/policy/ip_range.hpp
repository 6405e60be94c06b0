// IPv4 and IPv6 CIDR ranges ("40.92.0.0/15", "2a01:111:f400::/48"). Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};                          // v4 uses the first 4
  static std::optional<IpAddress> parse(std::string_view text);  // also "::ffff:1.2.3.4"
};

struct IpRange {
  IpAddress network;
  unsigned prefix = 0;
  static std::optional<IpRange> parse(std::string_view text);  // "a.b.c.d/n", or one address
  bool contains(const IpAddress& address) const;
};

bool any_contains(const std::vector<IpRange>& ranges, const IpAddress& address);

}  // namespace bh
