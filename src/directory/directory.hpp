// The directory as the policy layer and ingest see it: who a sender is
// (by primary address or alias), which mailbox owns a number, which
// tenants exist. The in-memory cache (directory_cache.hpp) implements it;
// the API, the CSV import and the LDAP sync fill the store behind it.
//
// Every lookup has three outcomes: found, absent, or unavailable (the
// directory could not be read recently enough to be trusted). Callers on
// the message path answer `unavailable` with 451 4.3.0, never with an
// unchecked accept.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directory/model.hpp"

namespace bh::directory {

// Services (a route's `service`, a user's permissions): lower-case letters,
// digits, '-' and '_', 1 to 32 characters.
inline bool valid_service_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

// A tenant id: a GUID, 8-4-4-4-12 hex digits (either case; stored lower
// case).
inline bool valid_tenant_id(std::string_view text) {
  static constexpr std::size_t kGroups[] = {8, 4, 4, 4, 12};
  std::size_t pos = 0;
  for (std::size_t g = 0; g < 5; ++g) {
    if (g > 0) {
      if (pos >= text.size() || text[pos] != '-') return false;
      ++pos;
    }
    for (std::size_t i = 0; i < kGroups[g]; ++i, ++pos) {
      if (pos >= text.size()) return false;
      char c = text[pos];
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return false;
    }
  }
  return pos == text.size();
}

enum class LookupState { found, absent, unavailable };

// The answer of a lookup: a value when found; `reason` says why the
// directory is unavailable (for the log, never for the client).
template <typename T>
struct Lookup {
  LookupState state = LookupState::absent;
  std::optional<T> value;
  std::string reason;

  static Lookup found(T v) { return {LookupState::found, std::move(v), {}}; }
  static Lookup absent() { return {LookupState::absent, std::nullopt, {}}; }
  static Lookup unavailable(std::string why) {
    return {LookupState::unavailable, std::nullopt, std::move(why)};
  }
  bool is_found() const { return state == LookupState::found; }
  bool is_unavailable() const { return state == LookupState::unavailable; }
  const T* operator->() const { return &*value; }
  const T& operator*() const { return *value; }
};

// Who owns a number: a service number (its mailbox), or a user whose
// fax_numbers or mobile_numbers hold it.
struct NumberOwner {
  std::string number;           // E.164
  std::string tenant;           // tenant id
  std::string mailbox;          // the primary address that receives what arrives for it
  std::string service;          // "fax", "sms", or "" for both
  bool service_number = false;  // from the service numbers (else a user's own number)
};

class DirectoryView {
 public:
  virtual ~DirectoryView() = default;
  // By primary address or alias, compared case-insensitively: the user
  // (with its primary address).
  virtual Lookup<User> find_user(std::string_view address) const = 0;
  // E.164 ("+4930123456"): whose mailbox gets what arrives for it.
  virtual Lookup<NumberOwner> find_number(std::string_view e164) const = 0;
  // A tenant pushed into the directory, by id (case-insensitive).
  virtual Lookup<Tenant> tenant(std::string_view id) const = 0;
  // The service numbers whose mailbox is this primary address (compared
  // case-insensitively), sorted by number: the numbers an SMS from the
  // mailbox may come from. Absent when it owns none.
  virtual Lookup<std::vector<NumberOwner>> service_numbers_of(std::string_view mailbox) const {
    return Lookup<std::vector<NumberOwner>>::absent();
  }
};

}  // namespace bh::directory
