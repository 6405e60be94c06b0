#include "connectors/fax/fax_address.hpp"

#include <fmt/format.h>

#include "directory/phone_number.hpp"
#include "util/printable.hpp"

namespace bh::connectors::fax {
namespace {

constexpr std::string_view kRfc3192Prefix = "fax=";
constexpr std::string_view kSubaddressPrefix = "/t33s=";
// T.33 sub-addresses are at most 20 digits (ITU-T T.33).
constexpr std::size_t kMaxSubaddress = 20;

bool starts_with_ci(std::string_view text, std::string_view lower_prefix) {
  return text.size() >= lower_prefix.size() &&
         to_lower_ascii(text.substr(0, lower_prefix.size())) == lower_prefix;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

FaxAddressParse invalid(std::string reason) {
  FaxAddressParse parse;
  parse.kind = FaxAddressParse::Kind::invalid;
  parse.reason = std::move(reason);
  return parse;
}

// The number part of a local part: digits with an optional leading '+'
// and the separators '-' and '.' (RFC 3192's written-sep), nothing else,
// so that "ann" or "030 123" with letters is refused here with a reason.
bool number_characters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '.' || (c == '+' && i == 0);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

FaxAddressParse parse_fax_address(const Address& recipient, const std::vector<std::string>& domains,
                                  std::string_view default_region) {
  std::string domain = recipient.domain_key();
  bool ours = false;
  for (const std::string& candidate : domains) {
    std::string key = to_lower_ascii(candidate);
    if (key.ends_with('.')) key.pop_back();
    if (key == domain) ours = true;
  }
  if (!ours) return {FaxAddressParse::Kind::not_ours, {}, {}};

  std::string_view local = recipient.local;
  std::string subaddress;
  if (starts_with_ci(local, kRfc3192Prefix)) {
    local.remove_prefix(kRfc3192Prefix.size());
    std::size_t slash = local.find('/');
    if (slash != std::string_view::npos) {
      std::string_view qualifier = local.substr(slash);
      local = local.substr(0, slash);
      if (!starts_with_ci(qualifier, kSubaddressPrefix))
        return invalid(fmt::format("'{}': the only qualifier a fax address may have is /T33S=",
                                   printable(recipient.local)));
      std::string_view digits = qualifier.substr(kSubaddressPrefix.size());
      if (!all_digits(digits) || digits.size() > kMaxSubaddress)
        return invalid(fmt::format("'{}': the T33S sub-address must be 1 to {} digits",
                                   printable(recipient.local), kMaxSubaddress));
      subaddress = std::string(digits);
    }
  }
  if (local.empty()) return invalid("the address names no fax number");
  if (!number_characters(local))
    return invalid(fmt::format(
        "'{}' is not a fax number (digits, a leading '+' and the separators - and . only)",
        printable(recipient.local)));
  auto e164 = directory::to_e164(local, default_region);
  if (!e164) return invalid(e164.error().message);
  FaxAddressParse parse;
  parse.kind = FaxAddressParse::Kind::number;
  parse.address = {std::move(*e164), std::move(subaddress)};
  return parse;
}

}  // namespace bh::connectors::fax
