// The reader of one [[rule]] table and the value readers its parts share
// (config_rules.cpp, config_rule_values.cpp, config_rule_conditions.cpp,
// config_rule_actions.cpp). Internal to the configuration loader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/header_edit.hpp"
#include "server/config_reader.hpp"

namespace bh::config_detail {

// "text" in quotes, made printable.
std::string in_quotes(std::string_view text);
// A string or a list of strings (each with its node, for its line). The
// list must not be empty: a condition on nothing could never hold.
std::vector<std::pair<std::string, const toml::node*>> string_list(TableReader& r,
                                                                   const std::string& key);
// "user@example.com" (local part compared without case) or "<>".
std::vector<std::string> read_addresses(TableReader& r, const std::string& key, bool null_ok);
// "example.com", "*.example.com" (subdomains only, as in routes) or "*".
std::vector<std::string> read_domains(TableReader& r, const std::string& key);
// Header field names (printable ASCII except ':').
std::vector<std::string> read_field_names(TableReader& r, const std::string& key);
// Why a header value from the configuration cannot be written: it must be
// one line of printable ASCII (non-ASCII text needs an RFC 2047 encoded word).
std::string value_problem(std::string_view value);
// Bytes: an integer, or a string with a unit: "512KB", "10 MB", "1GB" (1024-based, as Exchange).
std::optional<std::uint64_t> parse_size(const toml::node& node);
// TableReader::boolean takes 1 for true; a rule's switches must be written true or false.
// Returns false when the key is there but not a boolean (reported).
bool flag(TableReader& r, const std::string& key, bool& out);

// Reads one [[rule]] table into rule; errors go to errors.
struct RuleReader {
  TableReader& r;
  const std::string& source;
  std::vector<std::string>& errors;
  const std::vector<connectors::ConnectorSettings>& connectors;
  const TrustConfig& trust;
  TransportRule& rule;
  bool stop_ok = true;  // false: `stop` was there but not true or false (reported)

  // if_<what> / except_<what> (config_rule_conditions.cpp).
  void condition(const std::string& key, bool except);
  // set_header / add_header tables (config_rule_actions.cpp).
  void header_edits(const std::string& key, HeaderEdit::Kind kind);
  // { code = 550, enhanced = "5.7.1", text = "..." }; enhanced defaults to
  // "<class>.7.1", text to Exchange's default.
  void reject();
  // Every key of the rule, in its order (config_rules.cpp).
  void read();
};

}  // namespace bh::config_detail
