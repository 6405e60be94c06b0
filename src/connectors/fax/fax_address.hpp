// The fax number a recipient address names (README.md, "Addressing"):
// `+4930123456@fax.example.com`, `004930123456@...`, `030123456@...`
// (national: the connector's default_region), and RFC 3192's
// `FAX=+49-30-123456@...` with '-' and '.' as separators and an optional
// `/T33S=123` sub-address. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mail/address.hpp"

namespace bh::connectors::fax {

struct FaxAddress {
  std::string number;      // E.164, "+4930123456"
  std::string subaddress;  // RFC 3192 T33S (digits), empty: none
};

struct FaxAddressParse {
  enum class Kind {
    number,    // address is set
    not_ours,  // the domain is not one of the connector's
    invalid,   // ours, but not a fax number: reason says why (5.1.3)
  };
  Kind kind = Kind::invalid;
  FaxAddress address;
  std::string reason;
};

// domains: compared case-insensitively, a trailing dot ignored.
FaxAddressParse parse_fax_address(const Address& recipient, const std::vector<std::string>& domains,
                                  std::string_view default_region);

}  // namespace bh::connectors::fax
