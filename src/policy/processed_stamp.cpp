#include "policy/processed_stamp.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "util/hmac.hpp"

namespace bh {
namespace {

constexpr std::string_view kVersion = "1";
constexpr std::size_t kKeyIdLength = 8;
constexpr std::size_t kSignatureLength = 43;  // 32 bytes, base64url without padding

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    unsigned v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    unsigned v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// NUL separates the parts: none of node, time and key id can hold one, and
// the Message-ID comes last, so no two stamps share a signed text.
std::string signed_text(std::string_view node, std::string_view time, std::string_view key_id,
                        std::string_view message_id) {
  std::string text(kStampField);
  for (auto [tag, part] : {std::pair{"v=", kVersion}, std::pair{"n=", node}, std::pair{"t=", time},
                           std::pair{"k=", key_id}, std::pair{"m=", message_id}}) {
    text += '\0';
    text += tag;
    text += part;
  }
  return text;
}

std::string signature(std::string_view key, std::string_view text) {
  std::string mac = hmac_sha256(key, text);
  if (mac.empty()) return {};
  return base64url(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

bool node_char(unsigned char c) {
  return c > ' ' && c < 0x7F && c != ';';
}

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return c >= '0' && c <= '9'; });
}

bool is_key_id(std::string_view text) {
  return text.size() == kKeyIdLength && std::all_of(text.begin(), text.end(), [](unsigned char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_base64url(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

struct ParsedStamp {
  std::string_view node, time, key_id, signature;
  std::int64_t seconds = 0;
};

// Exactly "v=1; n=..; t=..; k=..; s=.." in this order, spaces around the
// separators allowed (a relay may refold), nothing else.
bool parse_stamp(std::string_view value, ParsedStamp& out) {
  static constexpr std::string_view kTags[] = {"v", "n", "t", "k", "s"};
  std::string_view parts[5];
  std::size_t count = 0;
  while (true) {
    std::size_t semicolon = value.find(';');
    std::string_view part = trim(value.substr(0, semicolon));
    if (count == 5) return false;
    std::size_t equals = part.find('=');
    if (equals == std::string_view::npos || part.substr(0, equals) != kTags[count]) return false;
    parts[count++] = part.substr(equals + 1);
    if (semicolon == std::string_view::npos) break;
    value.remove_prefix(semicolon + 1);
  }
  if (count != 5 || parts[0] != kVersion) return false;
  out.node = parts[1];
  out.time = parts[2];
  out.key_id = parts[3];
  out.signature = parts[4];
  if (out.node.empty() || !std::all_of(out.node.begin(), out.node.end(), node_char)) return false;
  if (!is_digits(out.time) || out.time.size() > 18) return false;  // fits in int64
  std::from_chars(out.time.data(), out.time.data() + out.time.size(), out.seconds);
  return is_key_id(out.key_id) && out.signature.size() == kSignatureLength &&
         is_base64url(out.signature);
}

}  // namespace

std::string stamp_key_id(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string id;
  for (std::size_t i = 0; i < kKeyIdLength / 2; ++i) id += fmt::format("{:02x}", digest[i]);
  return id;
}

std::string stamp_message_id(const HeaderBlock& header) {
  auto fields = header.all("Message-ID");
  return fields.empty() ? std::string() : HeaderBlock::unfolded(fields.front()->value);
}

std::string make_stamp_field(const StampKeys& keys, std::string_view message_id, std::int64_t now) {
  std::string node(keys.node);
  for (char& c : node)
    if (!node_char(static_cast<unsigned char>(c))) c = '_';
  if (node.empty()) node = "_";
  std::string time = std::to_string(now);
  std::string key_id = stamp_key_id(keys.current);
  std::string mac = signature(keys.current, signed_text(node, time, key_id, message_id));
  // Folded before s= so the first line stays near 78 characters (RFC 5322 2.1.1).
  return fmt::format("{}: v={}; n={}; t={}; k={};\r\n s={}\r\n", kStampField, kVersion, node, time,
                     key_id, mac);
}

std::string_view to_string(StampStatus status) {
  switch (status) {
    case StampStatus::valid:
      return "valid";
    case StampStatus::bad_syntax:
      return "bad_syntax";
    case StampStatus::unknown_key:
      return "unknown_key";
    case StampStatus::bad_signature:
      return "bad_signature";
    case StampStatus::stale:
      return "stale";
    case StampStatus::future:
      return "future";
  }
  return "unknown";
}

StampStatus verify_stamp(const StampKeys& keys, std::string_view field_value,
                         std::string_view message_id, std::int64_t now) {
  std::string value = HeaderBlock::unfolded(field_value);
  ParsedStamp stamp;
  if (!parse_stamp(value, stamp)) return StampStatus::bad_syntax;
  const std::string* key = nullptr;
  for (const std::string* candidate : {&keys.current, &keys.previous})
    if (!candidate->empty() && stamp_key_id(*candidate) == stamp.key_id) {
      key = candidate;
      break;
    }
  if (!key) return StampStatus::unknown_key;
  std::string expected =
      signature(*key, signed_text(stamp.node, stamp.time, stamp.key_id, message_id));
  // Both are kSignatureLength characters (parse_stamp checked the stamp's).
  if (expected.size() != stamp.signature.size() ||
      CRYPTO_memcmp(expected.data(), stamp.signature.data(), expected.size()) != 0)
    return StampStatus::bad_signature;
  if (stamp.seconds > now && stamp.seconds - now > kStampMaxFutureSeconds)
    return StampStatus::future;
  if (now > stamp.seconds && now - stamp.seconds > keys.max_age_seconds) return StampStatus::stale;
  return StampStatus::valid;
}

StampCheck check_stamps(std::string& content, std::size_t& header_size, const StampKeys& keys,
                        bool trusted_peer, std::int64_t now) {
  StampCheck check;
  header_size = std::min(header_size, content.size());
  HeaderBlock header(std::string_view(content).substr(0, header_size));
  std::string message_id = stamp_message_id(header);
  // Fields are removed by byte range, not by name: valid stamps stay.
  std::vector<std::pair<std::size_t, std::size_t>> doomed;
  for (const HeaderField* field : header.all(kStampField)) {
    StampStatus status = StampStatus::bad_syntax;
    if (trusted_peer) status = verify_stamp(keys, field->value, message_id, now);
    if (status == StampStatus::valid) {
      check.valid_present = true;
      continue;
    }
    check.removed.emplace_back(trusted_peer ? to_string(status) : "untrusted_peer");
    doomed.emplace_back(field->begin, field->end);
  }
  // Back to front, so the earlier ranges keep their offsets.
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
    content.erase(it->first, it->second - it->first);
    header_size -= it->second - it->first;
  }
  return check;
}

void add_stamp(std::string& content, std::size_t& header_size, const StampKeys& keys,
               std::int64_t now) {
  header_size = std::min(header_size, content.size());
  HeaderBlock header(std::string_view(content).substr(0, header_size));
  std::string field = make_stamp_field(keys, stamp_message_id(header), now);
  // Below the trace block: RFC 5321 4.4 wants the Received: fields (the
  // gateway's own first) at the very beginning of the content.
  std::size_t at = 0;
  for (const HeaderField& f : header.fields()) {
    if (!iequals_ascii(f.name, "Received")) break;
    at = f.end;
  }
  content.insert(at, field);
  header_size += field.size();
}

}  // namespace bh
