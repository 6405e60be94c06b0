#include "connectors/destination_rules.hpp"

#include <re2/re2.h>

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "util/printable.hpp"
#include "util/table_reader.hpp"

namespace bh::connectors {
namespace {

// E.164: at most 15 digits after the '+'.
constexpr std::size_t kMaxE164Digits = 15;

void prefixes(TableReader& r, const std::string& key, std::vector<std::string>& out) {
  r.strings(key, out, false);
  const toml::node* node = r.node(key);
  if (!node || !node->is_array()) return;
  const toml::array& items = *node->as_array();
  for (std::size_t i = 0; i < items.size() && i < out.size(); ++i)
    if (std::string problem = destination_prefix_problem(out[i]); !problem.empty())
      r.error(*items.get(i), key, problem);
}

}  // namespace

std::string destination_prefix_problem(std::string_view prefix) {
  if (!prefix.starts_with('+'))
    return fmt::format("\"{}\" must start with '+' and the country code (E.164, e.g. \"+49900\")",
                       printable(prefix));
  std::string_view digits = prefix.substr(1);
  if (digits.empty() || digits.size() > kMaxE164Digits)
    return fmt::format("\"{}\" must have 1 to {} digits after the '+'", printable(prefix),
                       kMaxE164Digits);
  for (char c : digits)
    if (c < '0' || c > '9')
      return fmt::format("\"{}\" must be '+' and digits only (no spaces or separators)",
                         printable(prefix));
  return {};
}

Result<std::shared_ptr<const re2::RE2>> compile_destination_pattern(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_shared<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!regex->ok())
    return Error{
        fmt::format("\"{}\" is not a valid RE2 pattern: {}", printable(pattern), regex->error())};
  return std::shared_ptr<const re2::RE2>(std::move(regex));
}

void read_destination_rules(TableReader& r, DestinationRules& rules) {
  prefixes(r, "blocked_prefixes", rules.blocked_prefixes);
  prefixes(r, "allowed_prefixes", rules.allowed_prefixes);
  r.strings("blocked_patterns", rules.blocked_patterns, false);
  if (const toml::node* node = r.node("blocked_patterns"); node && node->is_array()) {
    const toml::array& items = *node->as_array();
    for (std::size_t i = 0; i < items.size() && i < rules.blocked_patterns.size(); ++i)
      if (auto regex = compile_destination_pattern(rules.blocked_patterns[i]); !regex)
        r.error(*items.get(i), "blocked_patterns", regex.error().message);
  }
  r.boolean("block_premium_rate", rules.block_premium_rate);
}

Result<DestinationCheck> DestinationCheck::compile(const DestinationRules& rules) {
  DestinationCheck check;
  check.rules_ = rules;
  for (const std::string& pattern : rules.blocked_patterns) {
    auto regex = compile_destination_pattern(pattern);
    if (!regex) return regex.error();
    check.patterns_.push_back(*regex);
  }
  return check;
}

std::optional<std::string> DestinationCheck::blocked(const std::string& number) const {
  if (!rules_.allowed_prefixes.empty()) {
    bool allowed = false;
    for (const std::string& prefix : rules_.allowed_prefixes)
      if (number.starts_with(prefix)) allowed = true;
    if (!allowed) return std::string("not in allowed_prefixes");
  }
  for (const std::string& prefix : rules_.blocked_prefixes)
    if (number.starts_with(prefix)) return fmt::format("blocked_prefixes entry \"{}\"", prefix);
  for (std::size_t i = 0; i < patterns_.size(); ++i)
    if (RE2::FullMatch(number, *patterns_[i]))
      return fmt::format("blocked_patterns entry \"{}\"", printable(rules_.blocked_patterns[i]));
  if (rules_.block_premium_rate && directory::is_premium_rate(number))
    return std::string("premium rate or shared cost number (block_premium_rate)");
  return std::nullopt;
}

}  // namespace bh::connectors
