// The admin API's bearer tokens, in the shared store (store/database.hpp):
// only the SHA-256 of each secret is kept, so the store's contents do not
// let anyone call the API. A token reads "bh_<id>_<secret>" (id: 16 hex
// digits, secret: 32 random bytes as 64 hex digits) and is shown once, when
// it is made.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/router.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::admin {

struct TokenInfo {
  std::string id;
  Scope scope = Scope::read;
  std::string tenant;  // "" : every tenant
  std::string description;
  std::int64_t created = 0;    // unix seconds
  std::int64_t last_used = 0;  // 0: never
};

struct NewToken {
  TokenInfo info;
  std::string text;  // "bh_<id>_<secret>": shown once, stored nowhere
};

class TokenStore {
 public:
  // Applies the "tokens" migrations.
  static Result<std::unique_ptr<TokenStore>> open(std::shared_ptr<store::Database> db);

  // tenant: "" or a lower-case GUID (checked by the caller).
  Result<NewToken> create(Scope scope, const std::string& tenant, const std::string& description);
  Result<std::vector<TokenInfo>> list() const;
  // not_found when there is no such token.
  Status revoke(const std::string& id);

  // The caller a bearer token stands for; nullopt for a malformed, unknown
  // or revoked token or a wrong secret (compared in constant time). Records
  // last_used (at most once a minute per token).
  Result<std::optional<Caller>> authenticate(std::string_view token);

 private:
  explicit TokenStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}
  std::shared_ptr<store::Database> db_;
};

}  // namespace bh::admin
