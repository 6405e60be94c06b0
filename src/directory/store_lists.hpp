// Whole lists from the directory store, read page by page (the store's
// lists are paged, at most 1000 a call): for the CLI, the CSV export and
// import and the LDAP sync, which need all of a tenant's users or numbers.
#pragma once

#include <string>
#include <vector>

#include "directory/directory_store.hpp"

namespace bh::directory {

namespace detail {
template <typename Item, typename List, typename Key>
Result<std::vector<Item>> read_all_pages(List list, Key key) {
  std::vector<Item> all;
  Page page{.after = "", .limit = 1000};
  while (true) {
    auto items = list(page);
    if (!items) return items.error();
    for (auto& item : *items) all.push_back(std::move(item));
    if (items->size() < static_cast<std::size_t>(page.limit)) return all;
    page.after = key(all.back());
  }
}
}  // namespace detail

// tenant "": every tenant's.
inline Result<std::vector<User>> all_users(const DirectoryStore& store, const std::string& tenant) {
  return detail::read_all_pages<User>([&](const Page& p) { return store.users(tenant, p); },
                                      [](const User& u) { return u.address; });
}

inline Result<std::vector<ServiceNumber>> all_numbers(const DirectoryStore& store,
                                                      const std::string& tenant) {
  return detail::read_all_pages<ServiceNumber>(
      [&](const Page& p) { return store.numbers(tenant, p); },
      [](const ServiceNumber& n) { return n.number; });
}

inline Result<std::vector<Tenant>> all_tenants(const DirectoryStore& store) {
  return detail::read_all_pages<Tenant>([&](const Page& p) { return store.tenants(p); },
                                        [](const Tenant& t) { return t.id; });
}

}  // namespace bh::directory
