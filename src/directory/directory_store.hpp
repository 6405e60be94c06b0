// The directory's tables in the shared store (store/database.hpp), on SQLite
// or PostgreSQL. Every change bumps the store's directory version, which
// the caches of all nodes watch (directory_cache.hpp).
//
// Errors carry a store::StoreErrc: not_found, conflict (an address or number
// already used in another tenant), invalid (a value that fails validation),
// unavailable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "directory/model.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::directory {

// A page of a list: `after` is the last key of the previous page ("" for the
// first), at most `limit` entries (1 to 1000).
struct Page {
  std::string after;
  int limit = 100;
};

// Everything, for the cache (one consistent read).
struct DirectoryData {
  std::int64_t version = 0;
  std::vector<Tenant> tenants;
  std::vector<User> users;
  std::vector<ServiceNumber> numbers;
};

class DirectoryStore {
 public:
  // Applies the directory's migrations.
  static Result<std::unique_ptr<DirectoryStore>> open(std::shared_ptr<store::Database> db);

  // tenant "" : every tenant.
  Result<std::vector<Tenant>> tenants(const Page& page) const;
  Result<std::optional<Tenant>> tenant(const std::string& id) const;
  // Creates or updates (by id).
  Status put_tenant(const Tenant& tenant);
  // With its users and numbers.
  Status remove_tenant(const std::string& id);

  Result<std::vector<User>> users(const std::string& tenant, const Page& page) const;
  // By primary address or alias.
  Result<std::optional<User>> user(const std::string& address) const;
  // Creates or updates (by primary address). The tenant must exist; an
  // address, alias or number used by another user is a conflict.
  Status put_user(const User& user);
  Status remove_user(const std::string& address);

  Result<std::vector<ServiceNumber>> numbers(const std::string& tenant, const Page& page) const;
  Result<std::optional<ServiceNumber>> number(const std::string& e164) const;
  Status put_number(const ServiceNumber& number);
  Status remove_number(const std::string& e164);

  // Replaces the tenant (created if new) with its users and numbers in one
  // transaction: after it returns ok every reader sees all of it, after an
  // error none of it. Returns the directory version that transaction wrote
  // (not a later one another change made since).
  Result<std::int64_t> replace_tenant_directory(const TenantDirectory& directory);

  Result<std::int64_t> version() const;
  Result<DirectoryData> load() const;

  store::Database& database() const { return *db_; }

 private:
  explicit DirectoryStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}
  std::shared_ptr<store::Database> db_;
};

}  // namespace bh::directory
