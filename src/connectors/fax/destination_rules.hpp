// Which fax numbers the connector refuses to call (5.7.1), before
// anything is rendered: allowed_prefixes (when set, only those), then
// blocked_prefixes, blocked_patterns (RE2, whole number), and
// libphonenumber's premium rate and shared cost numbers when
// block_premium_rate. Pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/fax/fax_settings.hpp"
#include "util/result.hpp"

namespace re2 {
class RE2;
}

namespace bh::connectors::fax {

// "" when prefix is a valid E.164 prefix ('+' and 1 to 15 digits), else
// what is wrong with it.
std::string destination_prefix_problem(std::string_view prefix);

// A blocked_patterns entry, compiled; the error names RE2's complaint.
Result<std::shared_ptr<const re2::RE2>> compile_destination_pattern(std::string_view pattern);

class DestinationCheck {
 public:
  // Fails only for a pattern that does not compile (the kind reader has
  // already refused those with file and line).
  static Result<DestinationCheck> compile(const DestinationRules& rules);

  // Why number (E.164) must not be called, naming the rule; nullopt: it may.
  std::optional<std::string> blocked(const std::string& number) const;

 private:
  DestinationRules rules_;
  std::vector<std::shared_ptr<const re2::RE2>> patterns_;
};

}  // namespace bh::connectors::fax
