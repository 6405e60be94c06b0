#include "mail/address.hpp"

#include <algorithm>
#include <cctype>

namespace bh {
namespace {

constexpr std::size_t kMaxDomain = 255;  // RFC 5321 4.5.3.1.2

bool is_atext(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool valid_local(std::string_view local, bool utf8) {
  if (local.empty()) return false;
  if (local.front() == '"') {
    // RFC 5321 4.1.2: qtextSMTP is %d32-33 / %d35-91 / %d93-126 and a
    // quoted pair is "\\" %d32-126 (RFC 6531 adds UTF-8, checked elsewhere).
    if (local.size() < 2 || local.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
      unsigned char c = local[i];
      if (c == '\\') {
        if (++i + 1 >= local.size()) return false;
        unsigned char quoted = local[i];
        if (quoted < 32 || quoted > 126) return false;
        continue;
      }
      if (c == '"' || c < 32 || c == 127) return false;
      if (c >= 128 && !utf8) return false;
    }
    return true;
  }
  bool previous_dot = true;  // a dot may not lead, trail or repeat
  for (unsigned char c : local) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
      continue;
    }
    previous_dot = false;
    if (c >= 128) {
      if (!utf8) return false;
      continue;
    }
    if (!is_atext(c)) return false;
  }
  return !previous_dot;
}

bool valid_domain(std::string_view domain, bool utf8) {
  if (domain.empty()) return false;
  if (domain.front() == '[') {  // address literal
    if (domain.back() != ']' || domain.size() < 3) return false;
    return std::all_of(domain.begin() + 1, domain.end() - 1, [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == ':' || c == '-';
    });
  }
  std::size_t label = 0;
  char previous = '.';
  for (unsigned char c : domain) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if (c >= 128) {
      if (!utf8) return false;
      ++label;
    } else if (std::isalnum(c) || c == '_') {
      ++label;
    } else if (c == '-') {
      if (label == 0) return false;
      ++label;
    } else {
      return false;
    }
    if (label > 63) return false;
    previous = static_cast<char>(c);
  }
  return previous != '-';
}

bool iequals_postmaster(std::string_view text) {
  static constexpr std::string_view kPostmaster = "postmaster";
  if (text.size() != kPostmaster.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kPostmaster[i]) return false;
  }
  return true;
}

bool has_non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c >= 128; });
}

}  // namespace

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has_routing_syntax(const Address& address) {
  return address.local.find_first_of("%!") != std::string::npos ||
         (address.local.starts_with('"') && address.local.find('@') != std::string::npos);
}

std::string Address::domain_key() const {
  std::string key = to_lower_ascii(domain);
  if (!key.empty() && key.back() == '.') key.pop_back();
  return key;
}

bool Address::ascii() const {
  return !has_non_ascii(local) && !has_non_ascii(domain);
}

PathParse parse_path(std::string_view text, bool allow_null, bool allow_utf8,
                     std::size_t max_local) {
  PathParse result;
  if (text.empty() || text.front() != '<') return result;
  // Find the closing '>' outside a quoted local part.
  bool quoted = false;
  std::size_t close = std::string_view::npos;
  for (std::size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) return result;
  std::string_view inner = text.substr(1, close - 1);
  result.rest = text.substr(close + 1);
  // RFC 5321 4.5.3.1.3's 256 octets, widened by what a longer local part needs.
  if (inner.size() + 2 > std::max<std::size_t>(256, max_local + 1 + kMaxDomain + 2)) {
    result.error = PathError::too_long;
    return result;
  }
  if (inner.empty()) {
    if (allow_null) result.address = Address{};
    return result;
  }
  // RFC 5321 4.5.1: "<Postmaster>" without a domain must be accepted.
  if (iequals_postmaster(inner)) {
    result.address = Address{"postmaster", ""};
    result.postmaster = true;
    return result;
  }
  if (inner.front() == '@') {  // obsolete source route: "@a,@b:"
    std::size_t colon = inner.find(':');
    if (colon == std::string_view::npos) return result;
    inner.remove_prefix(colon + 1);
  }
  std::size_t at = inner.rfind('@');
  if (at == std::string_view::npos || at == 0) return result;
  std::string_view local = inner.substr(0, at);
  std::string_view domain = inner.substr(at + 1);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);  // "user@host."
  if (local.size() > max_local || domain.size() > kMaxDomain) {
    result.error = PathError::too_long;
    return result;
  }
  if (!allow_utf8 && (has_non_ascii(local) || has_non_ascii(domain))) {
    result.error = PathError::non_ascii;
    return result;
  }
  if (!valid_local(local, allow_utf8) || !valid_domain(domain, allow_utf8)) return result;
  result.address = Address{std::string(local), std::string(domain)};
  return result;
}

}  // namespace bh
