// A [[rule]]'s conditions and exceptions (if_* and except_* keys).
#include "mail/header_edit.hpp"
#include "policy/trust_policy.hpp"
#include "server/config_rules_internal.hpp"

namespace bh::config_detail {
namespace {

using Kind = RuleCondition::Kind;

}  // namespace

void RuleReader::condition(const std::string& key, bool except) {
  const std::string what = key.substr(except ? 7 : 3);  // after "except_" / "if_"
  if (!r.table().contains(key)) return;
  RuleCondition c;
  c.except = except;
  if (what == "sender") {
    c.kind = Kind::sender;
    c.values = read_addresses(r, key, true);
  } else if (what == "recipient") {
    c.kind = Kind::recipient;
    c.values = read_addresses(r, key, false);
  } else if (what == "sender_domain" || what == "recipient_domain") {
    c.kind = what == "sender_domain" ? Kind::sender_domain : Kind::recipient_domain;
    c.values = read_domains(r, key);
  } else if (what == "inbound_connector") {
    c.kind = Kind::inbound_connector;
    for (const auto& [name, node] : string_list(r, key)) {
      if (!trust.connector(name))
        r.error(*node, key, "inbound_connector " + in_quotes(name) + " is not defined");
      c.values.push_back(name);
    }
  } else if (what == "tenant") {
    c.kind = Kind::tenant;
    for (const auto& [id, node] : string_list(r, key)) {
      if (!is_tenant_guid(to_lower_ascii(id)))
        r.error(*node, key, in_quotes(id) + " is not a tenant id (GUID)");
      c.values.push_back(to_lower_ascii(id));
    }
  } else if (what == "client_ip") {
    c.kind = Kind::client_ip;
    for (const auto& [text, node] : string_list(r, key)) {
      if (auto range = IpRange::parse(text))
        c.ranges.push_back(*range);
      else
        r.error(*node, key, in_quotes(text) + " is not an IP address or CIDR range");
    }
  } else if (what == "size_over" || what == "size_under") {
    c.kind = what == "size_over" ? Kind::size_over : Kind::size_under;
    const toml::node& n = *r.node(key);
    if (auto size = parse_size(n))
      c.size = *size;
    else
      r.error(n, key, "must be a size in bytes: an integer, or a string such as \"10MB\"");
  } else if (what == "stamp_valid") {
    c.kind = Kind::stamp_valid;
    flag(r, key, c.flag);
  } else if (what == "header_exists") {
    c.kind = Kind::header_exists;
    c.values = read_field_names(r, key);
  } else if (what == "header_equals" || what == "header_matches") {
    bool equals = what == "header_equals";
    c.kind = equals ? Kind::header_equals : Kind::header_matches;
    const toml::node& n = *r.node(key);
    const toml::table* table = n.as_table();
    if (!table)
      return r.error(n, key,
                     equals ? "must be a table: { name = \"X-Header\", value = \"text\" }"
                            : "must be a table: { name = \"Subject\", regex = \"(?i)^fax\" }");
    TableReader t(*table, r.qualified(key), source, errors);
    t.text("name", c.header, true);
    if (t.table().contains("name") && t.node("name")->is_string() && !is_field_name(c.header))
      t.error(*t.node("name"), "name",
              in_quotes(c.header) + " is not a header field name (printable ASCII except ':')");
    if (equals) {
      for (const auto& [value, node] : string_list(t, "value")) c.values.push_back(value);
      if (!table->contains("value")) t.missing("value");
    } else {
      std::string pattern;
      t.text("regex", pattern, true);
      if (t.table().contains("regex") && t.node("regex")->is_string()) {
        auto regex = compile_rule_regex(pattern);
        if (regex)
          c.regex = *regex;
        else
          t.error(
              *t.node("regex"), "regex",
              in_quotes(pattern) + " is not a valid regular expression: " + regex.error().message);
      }
    }
  }
  rule.conditions.push_back(std::move(c));
}

}  // namespace bh::config_detail
