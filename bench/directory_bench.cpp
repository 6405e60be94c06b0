// Directory benchmark (issue 9, "Measured"): for one store (SQLite file or
// PostgreSQL connection string), the time to replace a tenant of N users in
// one transaction, the time until a cache sees it (refresh), and sender
// lookups per second from the cache (what the policy uses) against lookups
// from the store (what it would cost without the cache).
//
//   directory_bench sqlite PATH [USERS]
//   directory_bench postgresql URL [USERS]
//
// Prints one line per measurement and the cache/store ratio; bench/directory
// runs it for both backends side by side.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "directory/directory_cache.hpp"
#include "directory/directory_store.hpp"
#include "store/database.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bh::directory::TenantDirectory make_tenant(int users) {
  bh::directory::TenantDirectory d;
  d.tenant = {"4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b", "Bench", {"bench.test"}};
  for (int i = 0; i < users; ++i) {
    bh::directory::User u;
    u.address = "user" + std::to_string(i) + "@bench.test";
    u.tenant = d.tenant.id;
    u.display_name = "User " + std::to_string(i);
    u.aliases = {"alias" + std::to_string(i) + "@bench.test"};
    u.fax_numbers = {"+4930" + std::to_string(5000000 + i)};
    u.permissions = {"fax", "sms"};
    d.users.push_back(std::move(u));
  }
  return d;
}

int fail(const std::string& what, const bh::Error& error) {
  std::fprintf(stderr, "directory_bench: %s: %s\n", what.c_str(), error.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s sqlite PATH|postgresql URL [USERS]\n", argv[0]);
    return 2;
  }
  bh::store::StoreSettings settings;
  settings.backend = argv[1];
  (settings.backend == "sqlite" ? settings.path : settings.url) = argv[2];
  int users = argc > 3 ? std::atoi(argv[3]) : 10000;

  auto db = bh::store::open_database(settings);
  if (!db) return fail("open", db.error());
  auto opened = bh::directory::DirectoryStore::open(*db);
  if (!opened) return fail("directory", opened.error());
  std::shared_ptr<bh::directory::DirectoryStore> store = std::move(*opened);
  bh::directory::DirectoryCache cache(store, {});

  auto tenant = make_tenant(users);
  auto start = Clock::now();
  if (auto replaced = store->replace_tenant_directory(tenant); !replaced)
    return fail("replace", replaced.error());
  double push = seconds_since(start);
  start = Clock::now();
  if (auto refreshed = cache.refresh(); !refreshed) return fail("refresh", refreshed.error());
  double refresh = seconds_since(start);

  std::mt19937 random(42);
  std::uniform_int_distribution<int> pick(0, users - 1);
  auto address = [&] { return "user" + std::to_string(pick(random)) + "@bench.test"; };

  const int cache_lookups = 200000;
  start = Clock::now();
  int found = 0;
  for (int i = 0; i < cache_lookups; ++i) found += cache.find_user(address()).is_found();
  double cache_rate = cache_lookups / seconds_since(start);
  if (found != cache_lookups) return fail("cache", bh::Error{"a user was not found"});

  const int store_lookups = 5000;
  start = Clock::now();
  for (int i = 0; i < store_lookups; ++i) {
    auto user = store->user(address());
    if (!user || !user->has_value()) return fail("store", bh::Error{"a user was not found"});
  }
  double store_rate = store_lookups / seconds_since(start);

  std::printf("%-10s users=%d replace_s=%.3f cache_refresh_s=%.3f push_to_policy_s=%.3f\n", argv[1],
              users, push, refresh, push + refresh);
  std::printf("%-10s lookups_per_s cache=%.0f store=%.0f ratio=%.1f\n", argv[1], cache_rate,
              store_rate, cache_rate / store_rate);
  return 0;
}
