// Phone numbers in E.164 (+4930123456), parsed and checked with
// libphonenumber: the one place that knows numbering plans.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh::directory {

// "+49 30 123456", "0049-30-123456", "(030) 123456" with region "DE" ->
// "+4930123456". An error says why (not a number, too short, unknown
// country code, not a valid number for its region).
Result<std::string> to_e164(std::string_view text, std::string_view default_region);

// "+4930123456" -> "+49 30 123456" (for display names: "Fax +49 30 123456").
std::string international_format(const std::string& e164);

// Whether libphonenumber classifies the E.164 number as premium rate or
// shared cost (+49900..., +44909...): calls the caller pays extra for,
// which a fax connector blocks by default. False for anything it cannot parse.
bool is_premium_rate(const std::string& e164);

// Whether libphonenumber knows the ISO 3166 region ("DE", upper case):
// [directory] default_region must be one.
bool known_region(std::string_view region);

}  // namespace bh::directory
