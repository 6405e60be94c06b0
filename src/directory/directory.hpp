// The directory as the policy layer sees it: who a sender is, which tenant
// they belong to, which services they may use. The SQLite store implements
// it; a later LDAP/API sync fills the same store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bh::directory {

// Services (a route's `service`, a user's permissions): lower-case letters,
// digits, '-' and '_', 1 to 32 characters.
inline bool valid_service_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

struct User {
  std::string address;  // lower case
  std::string tenant;   // tenant id (lower-case GUID)
  std::vector<std::string> permissions;

  bool may(std::string_view service) const {
    for (const auto& p : permissions)
      if (p == service) return true;
    return false;
  }
};

class DirectoryView {
 public:
  virtual ~DirectoryView() = default;
  // address as in the envelope; implementations compare case-insensitively.
  virtual std::optional<User> find_user(const std::string& address) const = 0;
};

}  // namespace bh::directory
