#include "directory/users_import.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "directory/validate.hpp"
#include "store/store_error.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

// Every entry of a paged list.
template <typename T, typename Fetch, typename KeyOf>
Result<std::vector<T>> all_pages(Fetch fetch, KeyOf key_of) {
  std::vector<T> out;
  Page page{"", 1000};
  while (true) {
    auto batch = fetch(page);
    if (!batch) return batch.error();
    if (batch->empty()) return out;
    page.after = key_of(batch->back());
    for (auto& item : *batch) out.push_back(std::move(item));
  }
}

// "users[3].aliases[0]" -> 3; npos when the field is not a user's.
std::size_t user_index(const std::string& field) {
  if (!field.starts_with("users[")) return std::string::npos;
  std::size_t end = field.find(']');
  if (end == std::string::npos) return std::string::npos;
  try {
    return std::stoul(field.substr(6, end - 6));
  } catch (...) {
    return std::string::npos;
  }
}

}  // namespace

Result<ImportSummary> import_users(DirectoryStore& store, const std::vector<CsvUser>& users,
                                   const std::string& source) {
  std::string where = printable(source);
  std::map<std::string, std::vector<const CsvUser*>> by_tenant;
  for (const CsvUser& row : users) by_tenant[row.user.tenant].push_back(&row);
  if (users.empty()) {
    auto tenants = all_pages<Tenant>([&](const Page& p) { return store.tenants(p); },
                                     [](const Tenant& t) { return t.id; });
    if (!tenants) return tenants.error();
    for (const Tenant& tenant : *tenants) by_tenant[tenant.id];
  }
  ImportSummary summary;
  for (const auto& [tenant_id, rows] : by_tenant) {
    TenantDirectory directory;
    auto existing = store.tenant(tenant_id);
    if (!existing) return existing.error();
    directory.tenant = existing->value_or(Tenant{tenant_id, "", {}});
    std::set<std::string> mailboxes;
    for (const CsvUser* row : rows) {
      directory.users.push_back(row->user);
      mailboxes.insert(row->user.address);
    }
    auto numbers =
        all_pages<ServiceNumber>([&](const Page& p) { return store.numbers(tenant_id, p); },
                                 [](const ServiceNumber& n) { return n.number; });
    if (!numbers) return numbers.error();
    for (ServiceNumber& number : *numbers) {
      if (mailboxes.contains(number.mailbox)) {
        directory.numbers.push_back(std::move(number));
      } else {
        summary.warnings.push_back(fmt::format(
            "{}: warning: service number {} of tenant {} is removed: its mailbox {} is not in "
            "the file",
            where, number.number, tenant_id, printable(number.mailbox)));
      }
    }
    // The store checks again; checked here, the errors name the file's lines.
    TenantDirectory checked = directory;
    auto errors = normalise_directory(checked, {});
    if (!errors.empty()) {
      std::string text;
      for (const FieldError& e : errors) {
        std::size_t i = user_index(e.field);
        std::string at = i < rows.size() ? fmt::format("{}:{}", where, rows[i]->line) : where;
        text += (text.empty() ? "" : "\n") + at + ": " + e.message;
      }
      return store::store_error(store::StoreErrc::invalid, text);
    }
    if (auto replaced = store.replace_tenant_directory(directory); !replaced)
      return Error{fmt::format("{}: tenant {}: {}", where, tenant_id, replaced.error().message),
                   replaced.error().code};
    summary.users += rows.size();
    ++summary.tenants;
  }
  return summary;
}

}  // namespace bh::directory
