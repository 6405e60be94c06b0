#include "admin/token_store.hpp"

#include <chrono>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store/store_error.hpp"
#include "util/clock.hpp"

namespace bh::admin {
namespace {

constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
constexpr std::int64_t kLastUsedResolution = 60;  // seconds: not a write per request

const std::vector<store::Migration> kMigrations = {
    {1,
     "CREATE TABLE bh_admin_tokens ("
     " id TEXT PRIMARY KEY,"
     " secret_sha256 TEXT NOT NULL,"
     " scope TEXT NOT NULL,"
     " tenant TEXT NOT NULL,"
     " description TEXT NOT NULL,"
     " created BIGINT NOT NULL,"
     " last_used BIGINT NOT NULL)",
     {}},
};

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) out += fmt::format("{:02x}", data[i]);
  return out;
}

Result<std::string> random_hex(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1)
    return Error{"token: the random number generator failed"};
  return hex(buffer.data(), bytes);
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  return hex(digest, size);
}

bool is_hex(std::string_view text, std::size_t size) {
  if (text.size() != size) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

TokenInfo info_from(const store::Row& row) {
  TokenInfo info;
  info.id = row.text(0);
  info.scope = scope_from_name(row.text(1)).value_or(Scope::read);
  info.tenant = row.text(2);
  info.description = row.text(3);
  info.created = row.integer(4);
  info.last_used = row.integer(5);
  return info;
}

}  // namespace

Result<std::unique_ptr<TokenStore>> TokenStore::open(std::shared_ptr<store::Database> db) {
  if (auto migrated = db->migrate("tokens", kMigrations); !migrated) return migrated.error();
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(db)));
}

Result<NewToken> TokenStore::create(Scope scope, const std::string& tenant,
                                    const std::string& description) {
  auto id = random_hex(kIdBytes);
  if (!id) return id.error();
  auto secret = random_hex(kSecretBytes);
  if (!secret) return secret.error();
  NewToken token;
  token.info = {*id, scope, tenant, description, unix_now(), 0};
  token.text = "bh_" + *id + "_" + *secret;
  auto inserted = db_->execute(
      "INSERT INTO bh_admin_tokens (id, secret_sha256, scope, tenant, description, created, "
      "last_used) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {*id, sha256_hex(*secret), std::string(scope_name(scope)), tenant, description,
       token.info.created, std::int64_t{0}});
  if (!inserted) return inserted.error();
  return token;
}

Result<std::vector<TokenInfo>> TokenStore::list() const {
  auto rows = db_->query(
      "SELECT id, scope, tenant, description, created, last_used FROM bh_admin_tokens "
      "ORDER BY created, id");
  if (!rows) return rows.error();
  std::vector<TokenInfo> tokens;
  for (const store::Row& row : *rows) tokens.push_back(info_from(row));
  return tokens;
}

Status TokenStore::revoke(const std::string& id) {
  auto removed = db_->execute("DELETE FROM bh_admin_tokens WHERE id = $1", {id});
  if (!removed) return removed.error();
  if (*removed == 0) return store::store_error(store::StoreErrc::not_found, "no token " + id);
  return ok_status();
}

Result<std::optional<Caller>> TokenStore::authenticate(std::string_view token) {
  // "bh_" id "_" secret
  if (!token.starts_with("bh_")) return std::optional<Caller>();
  token.remove_prefix(3);
  std::size_t cut = token.find('_');
  if (cut == std::string_view::npos) return std::optional<Caller>();
  std::string_view id = token.substr(0, cut);
  std::string_view secret = token.substr(cut + 1);
  if (!is_hex(id, kIdBytes * 2) || !is_hex(secret, kSecretBytes * 2))
    return std::optional<Caller>();
  auto rows = db_->query(
      "SELECT id, scope, tenant, description, created, last_used, secret_sha256 FROM "
      "bh_admin_tokens WHERE id = $1",
      {std::string(id)});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Caller>();
  const store::Row& row = rows->front();
  std::string stored = row.text(6);
  std::string presented = sha256_hex(secret);
  if (stored.size() != presented.size() ||
      CRYPTO_memcmp(stored.data(), presented.data(), stored.size()) != 0)
    return std::optional<Caller>();
  TokenInfo info = info_from(row);
  std::int64_t now = unix_now();
  if (now - info.last_used >= kLastUsedResolution) {
    // Best effort: a failed bookkeeping write does not refuse the call.
    (void)db_->execute("UPDATE bh_admin_tokens SET last_used = $1 WHERE id = $2", {now, info.id});
  }
  return std::optional<Caller>(Caller{info.id, info.scope, info.tenant});
}

}  // namespace bh::admin
