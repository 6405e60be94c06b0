#include "directory/numbers_import.hpp"

#include <map>

#include <fmt/format.h>

#include "directory/store_lists.hpp"
#include "directory/validate.hpp"
#include "store/store_error.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

// "numbers[3].mailbox" -> 3; npos when the field is not a number's.
std::size_t number_index(const std::string& field) {
  if (!field.starts_with("numbers[")) return std::string::npos;
  std::size_t end = field.find(']');
  if (end == std::string::npos) return std::string::npos;
  std::size_t index = 0;
  for (std::size_t i = 8; i < end; ++i) {
    if (field[i] < '0' || field[i] > '9' || index > 1'000'000'000) return std::string::npos;
    index = index * 10 + static_cast<std::size_t>(field[i] - '0');
  }
  return end > 8 ? index : std::string::npos;
}

}  // namespace

Result<NumbersImportSummary> import_numbers(DirectoryStore& store,
                                            const std::vector<CsvNumber>& numbers,
                                            const std::string& source) {
  std::string where = printable(source);
  std::map<std::string, std::vector<const CsvNumber*>> by_tenant;
  for (const CsvNumber& row : numbers) by_tenant[row.number.tenant].push_back(&row);
  if (numbers.empty()) {
    auto tenants = all_tenants(store);
    if (!tenants) return tenants.error();
    for (const Tenant& tenant : *tenants) by_tenant[tenant.id];
  }
  // Every tenant checked before any is written, so a file with errors
  // changes nothing.
  std::vector<TenantDirectory> directories;
  for (const auto& [tenant_id, rows] : by_tenant) {
    auto existing = store.tenant(tenant_id);
    if (!existing) return existing.error();
    if (!*existing)
      return store::store_error(
          store::StoreErrc::not_found,
          fmt::format("{}:{}: tenant {} is not in the directory (import its users first)", where,
                      rows.front()->line, tenant_id));
    TenantDirectory directory;
    directory.tenant = **existing;
    auto users = all_users(store, tenant_id);
    if (!users) return users.error();
    directory.users = std::move(*users);
    for (const CsvNumber* row : rows) directory.numbers.push_back(row->number);
    // The store checks again; checked here, the errors name the file's lines.
    TenantDirectory checked = directory;
    auto errors = normalise_directory(checked, {});
    if (!errors.empty()) {
      std::string text;
      for (const FieldError& e : errors) {
        std::size_t i = number_index(e.field);
        std::string at = i < rows.size() ? fmt::format("{}:{}", where, rows[i]->line) : where;
        std::string field = e.field.substr(e.field.find('.') + 1);
        text += (text.empty() ? "" : "\n") + at + ": " +
                (i < rows.size() ? field + ": " : std::string()) + e.message;
      }
      return store::store_error(store::StoreErrc::invalid, text);
    }
    directories.push_back(std::move(directory));
  }
  NumbersImportSummary summary;
  for (const TenantDirectory& directory : directories) {
    if (auto replaced = store.replace_tenant_directory(directory); !replaced)
      return Error{
          fmt::format("{}: tenant {}: {}", where, directory.tenant.id, replaced.error().message),
          replaced.error().code};
    summary.numbers += directory.numbers.size();
    ++summary.tenants;
  }
  return summary;
}

}  // namespace bh::directory
