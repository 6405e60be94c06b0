// [[rule]] tables: transport rules (docs/rules.md).
#include <algorithm>
#include <cctype>
#include <map>

#include "mail/header_edit.hpp"
#include "policy/trust_policy.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {
namespace {

using Kind = RuleCondition::Kind;

std::string in_quotes(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}

// A string or a list of strings (each with its node, for its line). The
// list must not be empty: a condition on nothing could never hold.
std::vector<std::pair<std::string, const toml::node*>> string_list(TableReader& r,
                                                                   const std::string& key) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  const toml::node* n = r.node(key);
  if (!n) return out;
  if (auto value = n->value<std::string>()) {
    out.emplace_back(*value, n);
    return out;
  }
  const toml::array* array = n->as_array();
  if (!array || array->empty()) {
    r.error(*n, key, "must be a string or a non-empty list of strings");
    return out;
  }
  for (const toml::node& item : *array) {
    auto value = item.value<std::string>();
    if (!value) {
      r.error(item, key, "must be a string or a non-empty list of strings");
      return {};
    }
    out.emplace_back(*value, &item);
  }
  return out;
}

// "user@example.com" (local part compared without case) or "<>".
std::vector<std::string> read_addresses(TableReader& r, const std::string& key, bool null_ok) {
  std::vector<std::string> out;
  for (const auto& [text, node] : string_list(r, key)) {
    if (null_ok && text == "<>") {
      out.push_back(text);
      continue;
    }
    PathParse parsed = parse_path("<" + text + ">", false, true, 1024);
    if (!parsed.address || parsed.postmaster || parsed.address->domain.empty()) {
      r.error(
          *node, key,
          in_quotes(text) + " is not an address (user@domain" + (null_ok ? ", or \"<>\")" : ")"));
      continue;
    }
    out.push_back(to_lower_ascii(parsed.address->local) + "@" + parsed.address->domain_key());
  }
  return out;
}

// "example.com", "*.example.com" (subdomains only, as in routes) or "*".
std::vector<std::string> read_domains(TableReader& r, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [text, node] : string_list(r, key)) {
    std::string domain = to_lower_ascii(text);
    if (domain.ends_with('.') && domain != ".") domain.pop_back();
    std::string_view rest = domain;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    PathParse parsed = parse_path("<x@" + std::string(rest) + ">", false, true);
    if (domain != "*" && (!parsed.address || rest.find('*') != std::string_view::npos ||
                          parsed.address->domain_key() != rest)) {
      r.error(*node, key,
              in_quotes(text) + " is not a domain (\"example.com\", \"*.example.com\")");
      continue;
    }
    out.push_back(domain);
  }
  return out;
}

std::vector<std::string> read_field_names(TableReader& r, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [text, node] : string_list(r, key)) {
    if (!is_field_name(text))
      r.error(*node, key,
              in_quotes(text) + " is not a header field name (printable ASCII except ':')");
    else
      out.push_back(text);
  }
  return out;
}

// Why a header value from the configuration cannot be written: it must be
// one line of printable ASCII (non-ASCII text needs an RFC 2047 encoded word).
std::string value_problem(std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return "must not contain CR, LF or NUL";
  if (!std::all_of(value.begin(), value.end(),
                   [](char c) { return c == '\t' || (c >= 32 && c <= 126); }))
    return "must be printable ASCII (write other text as an RFC 2047 encoded word)";
  return "";
}

// Bytes: an integer, or a string with a unit: "512KB", "10 MB", "1GB" (1024-based, as Exchange).
std::optional<std::uint64_t> parse_size(const toml::node& node) {
  if (node.is_integer()) {
    std::int64_t value = *node.value<std::int64_t>();
    return value < 0 ? std::nullopt : std::optional<std::uint64_t>(value);
  }
  auto text = node.value<std::string>();
  if (!text) return std::nullopt;
  std::size_t digits = 0;
  while (digits < text->size() && std::isdigit(static_cast<unsigned char>((*text)[digits])))
    ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::uint64_t value = std::stoull(text->substr(0, digits));
  std::string unit = to_lower_ascii(text->substr(digits));
  if (unit.starts_with(' ')) unit.erase(0, 1);
  static const std::map<std::string, std::uint64_t> kUnits = {
      {"", 1}, {"b", 1}, {"kb", 1ULL << 10}, {"mb", 1ULL << 20}, {"gb", 1ULL << 30}};
  auto found = kUnits.find(unit);
  if (found == kUnits.end()) return std::nullopt;
  return value * found->second;
}

// TableReader::boolean takes 1 for true; a rule's switches must be written true or false.
bool flag(TableReader& r, const std::string& key, bool& out) {
  const toml::node* n = r.node(key);
  if (!n) return true;
  if (!n->is_boolean()) {
    r.error(*n, key, "must be true or false");
    return false;
  }
  out = *n->value<bool>();
  return true;
}

// Calls visit(reader) for a table, or for each table of a list of tables.
template <typename Visit>
void tables(TableReader& r, const std::string& key, std::vector<std::string>& errors,
            const std::string& source, Visit visit) {
  const toml::node* n = r.node(key);
  if (!n) return;
  if (const toml::table* table = n->as_table()) {
    TableReader reader(*table, r.qualified(key), source, errors);
    return visit(reader, *n);
  }
  const toml::array* array = n->as_array();
  if (!array || array->empty() || !array->is_array_of_tables())
    return r.error(*n, key, "must be a table { name = ..., ... } or a list of them");
  std::size_t index = 0;
  for (const toml::node& item : *array) {
    TableReader reader(*item.as_table(), fmt::format("{}[{}]", r.qualified(key), index++), source,
                       errors);
    visit(reader, item);
  }
}

struct RuleReader {
  TableReader& r;
  const std::string& source;
  std::vector<std::string>& errors;
  const std::vector<connectors::ConnectorSettings>& connectors;
  const TrustConfig& trust;
  TransportRule& rule;
  bool stop_ok = true;  // false: `stop` was there but not true or false (reported)

  void condition(const std::string& key, bool except) {
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
            t.error(*t.node("regex"), "regex",
                    in_quotes(pattern) +
                        " is not a valid regular expression: " + regex.error().message);
        }
      }
    }
    rule.conditions.push_back(std::move(c));
  }

  void header_edits(const std::string& key, HeaderEdit::Kind kind) {
    tables(r, key, errors, source, [&](TableReader& t, const toml::node&) {
      HeaderEdit edit{kind, "", ""};
      t.text("name", edit.name, true);
      t.text("value", edit.value, true);
      if (!t.table().contains("name") || !t.table().contains("value")) return;
      if (!is_field_name(edit.name))
        return t.error(
            *t.node("name"), "name",
            in_quotes(edit.name) + " is not a header field name (printable ASCII except ':')");
      if (std::string problem = value_problem(edit.value); !problem.empty())
        return t.error(*t.node("value"), "value", problem);
      if (std::string problem = header_edit_problem(edit.name, edit.value); !problem.empty())
        return t.error(*t.node("value"), "value", problem);
      rule.header_edits.push_back(std::move(edit));
    });
  }

  // { code = 550, enhanced = "5.7.1", text = "..." }; enhanced defaults to
  // "<class>.7.1", text to Exchange's default.
  void reject() {
    const toml::node* n = r.node("reject");
    if (!n) return;
    const toml::table* table = n->as_table();
    if (!table)
      return r.error(*n, "reject",
                     "must be a table: { code = 550, enhanced = \"5.7.1\", text = \"...\" }");
    TableReader t(*table, r.qualified("reject"), source, errors);
    RuleRejection reject;
    reject.text = "Delivery not authorized, message refused";
    const toml::node* code = t.node("code");
    t.text("enhanced", reject.enhanced);
    t.text("text", reject.text);
    bool good = true;
    auto bad = [&](const char* key, const std::string& message) {
      t.error(*t.node(key), key, message);
      good = false;
    };
    std::int64_t value = code && code->is_integer() ? *code->value<std::int64_t>() : 0;
    // RFC 5321 4.2: the second digit is 0 to 5.
    if (!code) {
      t.missing("code");
      good = false;
    } else if (value < 400 || value > 599 || value / 10 % 10 > 5) {
      bad("code", "must be a 4xx or 5xx reply code, e.g. 550");
    }
    reject.code = static_cast<int>(value);
    const char kind = static_cast<char>('0' + value / 100);
    if (!table->contains("enhanced")) {
      reject.enhanced = fmt::format("{}.7.1", kind);
    } else if (t.node("enhanced")->is_string()) {
      const std::string& e = reject.enhanced;
      std::size_t dot1 = e.find('.');
      std::size_t dot2 = dot1 == e.npos ? e.npos : e.find('.', dot1 + 1);
      auto digits = [&](std::size_t from, std::size_t to) {
        return to > from && to - from <= 3 &&
               std::all_of(e.begin() + from, e.begin() + to,
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      };
      if (dot1 != 1 || dot2 == e.npos || !digits(2, dot2) || !digits(dot2 + 1, e.size()) ||
          (e[0] != '4' && e[0] != '5'))
        bad("enhanced",
            in_quotes(e) + " is not an enhanced status code (4.x.y or 5.x.y, RFC 3463)");
      else if (good && e[0] != kind)
        bad("enhanced", fmt::format("{} does not have the class of code {} ({}.x.y)", in_quotes(e),
                                    value, kind));
    }
    if (const toml::node* text = t.table().get("text"); text && text->is_string()) {
      if (reject.text.empty() || reject.text.size() > 400 ||
          !std::all_of(reject.text.begin(), reject.text.end(),
                       [](char c) { return c >= 32 && c <= 126; }))
        bad("text", "must be 1 to 400 characters of printable ASCII");
    }
    if (good) rule.reject = std::move(reject);
  }

  void read() {
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
        r.error(*r.node("route_to"), "route_to",
                "connector " + in_quotes(route) + " is not defined");
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
};

}  // namespace

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
