// Which numbers a paid connector (fax, SMS) refuses to reach (5.7.1),
// before anything is sent: allowed_prefixes (when set, only those), then
// blocked_prefixes, blocked_patterns (RE2, whole number), and
// libphonenumber's premium rate and shared cost numbers when
// block_premium_rate (premium-rate fraud, SMS pumping). The same four
// configuration keys for every such connector, read by one function.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace re2 {
class RE2;
}

namespace bh {
class TableReader;  // util/table_reader.hpp
}

namespace bh::connectors {

struct DestinationRules {
  // E.164 prefixes ("+49900", "+44909"): a number that starts with one is blocked.
  std::vector<std::string> blocked_prefixes;
  // RE2 patterns matched against the whole E.164 number.
  std::vector<std::string> blocked_patterns;
  // Number types libphonenumber classifies as premium rate (and shared cost) are blocked.
  bool block_premium_rate = true;
  // When not empty, only numbers with one of these prefixes may be reached.
  std::vector<std::string> allowed_prefixes;
};

// "" when prefix is a valid E.164 prefix ('+' and 1 to 15 digits), else
// what is wrong with it.
std::string destination_prefix_problem(std::string_view prefix);

// A blocked_patterns entry, compiled; the error names RE2's complaint.
Result<std::shared_ptr<const re2::RE2>> compile_destination_pattern(std::string_view pattern);

// blocked_prefixes, allowed_prefixes, blocked_patterns and
// block_premium_rate of a connector table, each entry checked (errors with
// file, line and key).
void read_destination_rules(TableReader& r, DestinationRules& rules);

class DestinationCheck {
 public:
  // Fails only for a pattern that does not compile (the kind reader has
  // already refused those with file and line).
  static Result<DestinationCheck> compile(const DestinationRules& rules);

  // Which rule forbids number (E.164), without the number ("premium rate
  // or shared cost number (block_premium_rate)", "blocked_prefixes entry
  // \"+4930\""); nullopt: it may be reached.
  std::optional<std::string> blocked(const std::string& number) const;

 private:
  DestinationRules rules_;
  std::vector<std::shared_ptr<const re2::RE2>> patterns_;
};

}  // namespace bh::connectors
