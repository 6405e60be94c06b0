#include "connectors/webhook/signature.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <vector>

#include "util/hmac.hpp"

namespace bh::connectors::webhook {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string signed_text(std::int64_t timestamp, std::string_view body) {
  std::string text = std::to_string(timestamp);
  text.push_back('.');
  text.append(body);
  return text;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::string mac = hmac_sha256(key, data);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(mac.size() * 2);
  for (unsigned char byte : mac) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0x0F]);
  }
  return hex;
}

std::string sign(std::string_view key, std::int64_t timestamp, std::string_view body) {
  return "t=" + std::to_string(timestamp) +
         ", v1=" + hmac_sha256_hex(key, signed_text(timestamp, body));
}

std::string_view describe(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::valid:
      return "valid";
    case SignatureCheck::missing:
      return "no X-Bridgehead-Signature header";
    case SignatureCheck::malformed:
      return "malformed X-Bridgehead-Signature header";
    case SignatureCheck::expired:
      return "signature timestamp outside the tolerance";
    case SignatureCheck::mismatch:
      return "signature does not match";
  }
  return "?";
}

SignatureCheck verify(std::string_view header, std::string_view key, std::string_view body,
                      std::int64_t now, std::int64_t tolerance) {
  header = trim(header);
  if (header.empty()) return SignatureCheck::missing;
  std::int64_t timestamp = -1;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) return SignatureCheck::malformed;
    std::string_view name = item.substr(0, equals), value = item.substr(equals + 1);
    if (name == "t") {
      if (timestamp >= 0 || value.empty() || value.size() > 18) return SignatureCheck::malformed;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), timestamp);
      if (ec != std::errc() || end != value.data() + value.size() || timestamp < 0)
        return SignatureCheck::malformed;
    } else if (name == "v1") {
      if (value.size() != 64 || candidates.size() >= 8) return SignatureCheck::malformed;
      candidates.push_back(value);
    }  // other schemes (v0, a future v2) are ignored, as Stripe does
  }
  if (timestamp < 0 || candidates.empty()) return SignatureCheck::malformed;
  if (timestamp < now - tolerance || timestamp > now + tolerance) return SignatureCheck::expired;
  std::string expected = hmac_sha256_hex(key, signed_text(timestamp, body));
  bool matched = false;
  for (std::string_view candidate : candidates) {
    std::string lower(candidate);
    for (char& c : lower)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    // Every candidate is compared, matched or not, in constant time each.
    if (expected.size() == lower.size() &&
        CRYPTO_memcmp(expected.data(), lower.data(), expected.size()) == 0)
      matched = true;
  }
  return matched ? SignatureCheck::valid : SignatureCheck::mismatch;
}

}  // namespace bh::connectors::webhook
