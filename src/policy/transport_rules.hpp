// Transport rules as Exchange has them (docs/rules.md): an ordered list of
// rules, each with conditions that must all hold, exceptions of which none
// may hold, and actions (route to a connector, add/set/remove a header,
// reject, stop). Pure: evaluate() decides from typed inputs; the intake
// applies the header edits (mail/header_edit.hpp) and the routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/address.hpp"
#include "mail/header_edit.hpp"
#include "policy/ip_range.hpp"
#include "util/result.hpp"

namespace re2 {
class RE2;
}

namespace bh {

class HeaderBlock;

struct RuleInput {
  Address sender;  // null for "<>"
  std::vector<Address> recipients;
  const HeaderBlock* header = nullptr;  // nullptr: no header fields
  std::string inbound_connector;        // name of the matched inbound connector, or ""
  std::string tenant;                   // tenant id (GUID), or ""
  std::optional<IpAddress> client_ip;   // none for mail that did not come over SMTP
  std::uint64_t size = 0;               // message size in bytes
  bool stamp_valid = false;             // a valid processed stamp (policy/processed_stamp.hpp)
};

struct RuleRejection {
  int code = 550;
  std::string enhanced = "5.7.1";
  std::string text;
};

struct RuleOutcome {
  std::vector<std::string> matched;                // names of the rules that applied, in order
  std::vector<std::optional<std::string>> routes;  // per recipient index: a rule's connector
  std::vector<std::string> routed_by;              // per recipient index: that rule's name, or ""
  std::vector<HeaderEdit> header_edits;            // in the order to apply them
  std::vector<std::string> header_edited_by;       // per header_edits entry: its rule's name
  std::optional<RuleRejection> reject;             // the message is refused with this
  std::string rejected_by;                         // the rule that rejected it
};

struct RuleCondition {
  enum class Kind {
    header_exists,      // a field named one of `values`
    header_equals,      // a field named `header` whose unfolded value is one of `values`
    header_matches,     // a field named `header` whose unfolded value `regex` finds a match in
    sender,             // envelope sender is one of `values` ("<>": the null sender)
    sender_domain,      // envelope sender's domain matches one of `values`
    recipient,          // per recipient: the address is one of `values`
    recipient_domain,   // per recipient: the domain matches one of `values`
    inbound_connector,  // the inbound connector is one of `values`
    tenant,             // the tenant id is one of `values`
    client_ip,          // the client IP is in one of `ranges`
    size_over,          // size > `size`
    size_under,         // size < `size`
    stamp_valid,        // stamp_valid == `flag`
  };
  Kind kind = Kind::header_exists;
  bool except = false;  // an exception: the rule applies only when this does not hold
  // Addresses and domains lower case; field names or header values as written.
  std::vector<std::string> values;
  std::string header;  // header_equals, header_matches: the field name (any case)
  std::shared_ptr<const re2::RE2> regex;
  std::vector<IpRange> ranges;
  std::uint64_t size = 0;
  bool flag = true;

  bool per_recipient() const { return kind == Kind::recipient || kind == Kind::recipient_domain; }
};

struct TransportRule {
  std::string name;
  std::size_t line = 0;  // where the rule starts in the configuration (for messages)
  bool enabled = true;
  std::vector<RuleCondition> conditions;
  std::optional<std::string> route_to;  // connector name
  std::vector<HeaderEdit> header_edits;
  std::optional<RuleRejection> reject;
  bool stop = false;
};

class TransportRules {
 public:
  TransportRules() = default;
  explicit TransportRules(std::vector<TransportRule> rules) : rules_(std::move(rules)) {}

  // Semantics (docs/rules.md): rules run in order; a rule applies when all
  // its conditions hold and none of its exceptions does. Recipient
  // conditions hold when any recipient matches, and a route applies only to
  // the recipients that matched them (to all without recipient conditions);
  // a later route for a recipient overrides an earlier one. Header
  // conditions see the edits of the rules before. Reject and stop end the
  // evaluation.
  RuleOutcome evaluate(const RuleInput& input) const;

  bool empty() const { return rules_.empty(); }
  const std::vector<TransportRule>& rules() const { return rules_; }

 private:
  std::vector<TransportRule> rules_;
};

// Compiles a header_matches pattern (RE2 syntax, case-sensitive unless
// "(?i)"); the error carries RE2's text.
Result<std::shared_ptr<const re2::RE2>> compile_rule_regex(std::string_view pattern);

}  // namespace bh
