// [[rule]] tables: transport rules (docs/rules.md).
// The conditions are config_rule_conditions.cpp, the actions
// config_rule_actions.cpp, the value readers config_rule_values.cpp.
#include <algorithm>
#include <map>

#include "server/config_reader.hpp"
#include "server/config_rules_internal.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {
namespace {

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}

}  // namespace

void RuleReader::read() {
  flag(r, "enabled", rule.enabled);
  for (const char* what : {"sender", "sender_domain", "recipient", "recipient_domain",
                           "inbound_connector", "tenant", "client_ip", "size_over", "size_under",
                           "stamp_valid", "header_exists", "header_equals", "header_matches"}) {
    condition(std::string("if_") + what, false);
    condition(std::string("except_") + what, true);
  }
  std::string route;
  r.text("route_to", route);
  if (r.table().contains("route_to") && r.node("route_to")->is_string()) {
    bool defined = std::any_of(connectors.begin(), connectors.end(),
                               [&](const auto& c) { return c.name == route; });
    if (!defined)
      r.error(*r.node("route_to"), "route_to", "connector " + in_quotes(route) + " is not defined");
    rule.route_to = route;
  }
  // Within one rule: removals, then replacements, then additions.
  for (const std::string& name : read_field_names(r, "remove_header"))
    rule.header_edits.push_back({HeaderEdit::Kind::remove, name, ""});
  header_edits("set_header", HeaderEdit::Kind::set);
  header_edits("add_header", HeaderEdit::Kind::add);
  reject();
  stop_ok = flag(r, "stop", rule.stop);
}

std::shared_ptr<const TransportRules> read_rules(
    TableReader& top, const std::string& source, std::vector<std::string>& errors,
    const std::vector<connectors::ConnectorSettings>& connectors, const TrustConfig& trust) {
  std::vector<TransportRule> rules;
  std::map<std::string, std::pair<std::size_t, std::size_t>> seen;  // lower-case name: index, line
  each_table(top, source, errors, "rule", [&](TableReader& r) {
    std::size_t index = rules.size();
    TransportRule& rule = rules.emplace_back();
    rule.line = r.table().source().begin.line;
    r.text("name", rule.name, true);
    if (const toml::node* n = r.table().get("name"); n && n->is_string()) {
      if (rule.name.empty() || rule.name.size() > 200 || printable(rule.name) != rule.name)
        r.error(*n, "name", "must be 1 to 200 printable characters");
      auto [first, fresh] = seen.try_emplace(to_lower_ascii(rule.name), index, line_of(*n));
      if (!fresh)
        r.error(*n, "name",
                fmt::format("{} is also the name of rule[{}] (line {}); names must be unique",
                            in_quotes(rule.name), first->second.first, first->second.second));
    }
    RuleReader reader{r, source, errors, connectors, trust, rule};
    reader.read();
    // A malformed action was reported already; "no action" is for rules without one.
    bool edits = std::any_of(r.table().begin(), r.table().end(), [](const auto& entry) {
      return entry.first.str().ends_with("_header") || entry.first.str() == "route_to";
    });
    if (!edits && !rule.stop && reader.stop_ok && !r.table().contains("reject"))
      errors.push_back(fmt::format(
          "{}:{}: rule[{}]: has no action (route_to, add_header, set_header, remove_header, "
          "reject or stop)",
          source, rule.line, index));
    if (r.table().contains("reject") && edits)
      r.error(*r.table().get("reject"), "reject",
              "a rule that rejects cannot also route or edit headers (reject ends the evaluation)");
  });
  return std::make_shared<const TransportRules>(std::move(rules));
}

}  // namespace bh::config_detail
