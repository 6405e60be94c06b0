// The values of a [[rule]] table: string lists, addresses, domains, header
// field names and values, sizes and switches, each with its precise error.
#include <algorithm>
#include <cctype>
#include <map>

#include "mail/address.hpp"
#include "mail/header_edit.hpp"
#include "server/config_rules_internal.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {

std::string in_quotes(std::string_view text) {
  return "\"" + printable(text) + "\"";
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

}  // namespace bh::config_detail
