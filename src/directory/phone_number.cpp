#include "directory/phone_number.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <set>

#include <fmt/format.h>

#include "util/printable.hpp"

namespace bh::directory {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Longer input is no phone number, even with spaces and punctuation.
constexpr std::size_t kMaxNumberText = 64;

// What people write in a number: digits, one leading '+', and the usual
// separators. libphonenumber would also take letters ("1-800-FLOWERS"),
// extensions ("ext. 12") and "tel:" URIs; those are refused here.
bool allowed_character(char c) {
  return (c >= '0' && c <= '9') || c == '+' || c == ' ' || c == '-' || c == '.' || c == '(' ||
         c == ')' || c == '/';
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string upper(std::string_view region) {
  std::string out(region);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

bool known_region(std::string_view region) {
  std::set<std::string> regions;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.contains(std::string(region));
}

Result<std::string> to_e164(std::string_view text, std::string_view default_region) {
  std::string_view number = trimmed(text);
  if (number.empty()) return Error{"a phone number must not be empty"};
  if (number.size() > kMaxNumberText)
    return Error{fmt::format("is not a phone number (longer than {} characters)", kMaxNumberText)};
  for (char c : number)
    if (!allowed_character(c))
      return Error{fmt::format(
          "'{}' is not a phone number (digits, a leading '+', spaces and - . / ( ) only)",
          printable(number))};
  std::string input(number);
  std::string region = upper(default_region);
  // "0049 30 ..." is international everywhere Bridgehead runs; without a
  // region libphonenumber would not know that 00 is the exit code.
  if (input.starts_with("00")) input = "+" + input.substr(2);
  if (!input.starts_with("+") && region.empty())
    return Error{fmt::format(
        "'{}' has no country code: write it as +<country code><number> (or set [directory] "
        "default_region)",
        printable(number))};
  if (input.find('+', 1) != std::string::npos)
    return Error{
        fmt::format("'{}' is not a phone number ('+' only at the start)", printable(number))};
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  switch (util.Parse(input, region.empty() ? "ZZ" : region, &parsed)) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return Error{fmt::format("'{}' has an unknown country code", printable(number))};
    case PhoneNumberUtil::NOT_A_NUMBER:
      return Error{fmt::format("'{}' is not a phone number", printable(number))};
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return Error{fmt::format("'{}' is too short for a phone number", printable(number))};
    case PhoneNumberUtil::TOO_LONG_NSN:
      return Error{fmt::format("'{}' is too long for a phone number", printable(number))};
  }
  if (parsed.has_extension())  // not reachable with the characters allowed; kept as a guard
    return Error{fmt::format("'{}' has an extension", printable(number))};
  if (!util.IsValidNumber(parsed)) {
    std::string where;
    util.GetRegionCodeForCountryCode(parsed.country_code(), &where);
    switch (util.IsPossibleNumberWithReason(parsed)) {
      case PhoneNumberUtil::TOO_SHORT:
        return Error{fmt::format("'{}' is too short for a number of country code +{}",
                                 printable(number), parsed.country_code())};
      case PhoneNumberUtil::TOO_LONG:
        return Error{fmt::format("'{}' is too long for a number of country code +{}",
                                 printable(number), parsed.country_code())};
      case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return Error{fmt::format("'{}' has an unknown country code", printable(number))};
      default:
        return Error{fmt::format("'{}' is not a valid number in {} (+{})", printable(number),
                                 where == "ZZ" || where.empty() ? "its numbering plan" : where,
                                 parsed.country_code())};
    }
  }
  std::string e164;
  util.Format(parsed, PhoneNumberUtil::E164, &e164);
  return e164;
}

bool is_premium_rate(const std::string& e164) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util.Parse(e164, "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return false;
  PhoneNumberUtil::PhoneNumberType type = util.GetNumberType(parsed);
  return type == PhoneNumberUtil::PREMIUM_RATE || type == PhoneNumberUtil::SHARED_COST;
}

std::string international_format(const std::string& e164) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util.Parse(e164, "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return e164;
  std::string out;
  util.Format(parsed, PhoneNumberUtil::INTERNATIONAL, &out);
  return out;
}

}  // namespace bh::directory
