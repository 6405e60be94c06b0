#include "directory/users_csv.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "directory/csv.hpp"
#include "directory/directory.hpp"
#include "directory/validate.hpp"
#include "mail/address.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

std::string quote_value(std::string_view text) {
  return "'" + printable(text) + "'";
}

const std::vector<std::string> kUserRequired = {"address", "tenant", "permissions"};
const std::vector<std::string> kUserOptional = {"display_name", "aliases", "fax_numbers",
                                                "mobile_numbers", "send_as"};

}  // namespace

Result<std::vector<CsvUser>> read_users_csv(std::string_view text, const std::string& source,
                                            const CsvOptions& options) {
  auto records = read_csv_records(text, source);
  if (!records) return records.error();
  std::string where = printable(source);
  std::vector<std::string> errors;
  std::vector<CsvUser> users;
  std::map<std::string, std::size_t> first_line;
  auto fail = [&](std::size_t line, const std::string& message) {
    errors.push_back(fmt::format("{}:{}: {}", where, line, message));
  };
  if (records->empty()) {
    if (options.allow_empty) return users;
    return Error{fmt::format(
        "{}: no header and no users; importing it would remove every user (--allow-empty does "
        "that)",
        where)};
  }
  auto columns = CsvColumns::read(records->front(), kUserRequired, kUserOptional, source);
  if (!columns) return columns.error();
  NormaliseOptions normalise{options.default_region};
  for (std::size_t i = 1; i < records->size() && errors.size() < kMaxCsvErrors; ++i) {
    const CsvRecord& record = (*records)[i];
    if (record.fields.size() != columns->size()) {
      fail(record.line, fmt::format("expected {} fields ({}), found {}", columns->size(),
                                    columns->joined(), record.fields.size()));
      continue;
    }
    auto field = [&](std::string_view name) { return columns->field(record, name).value_or(""); };
    std::string address = field("address");
    auto parsed = parse_path("<" + address + ">", false, true);
    if (address.empty() || !parsed.address || parsed.address->domain.empty() ||
        !parsed.rest.empty()) {
      fail(record.line, quote_value(address) + " is not a mail address");
      continue;
    }
    address = to_lower_ascii(address);
    std::string tenant = to_lower_ascii(field("tenant"));
    if (!valid_tenant_id(tenant)) {
      fail(record.line, quote_value(field("tenant")) + " is not a tenant id (GUID)");
      continue;
    }
    std::vector<std::string> permissions;
    bool good = true;
    for (std::string& permission : split_list(field("permissions"))) {
      permission = to_lower_ascii(permission);
      if (!valid_service_name(permission)) {
        fail(record.line, quote_value(permission) +
                              " is not a service name (lower-case letters, digits, '-' and '_', "
                              "1 to 32 characters; several are separated by ';')");
        good = false;
        break;
      }
      if (std::find(permissions.begin(), permissions.end(), permission) == permissions.end())
        permissions.push_back(permission);
    }
    if (!good) continue;
    auto [first, fresh] = first_line.try_emplace(address, record.line);
    if (!fresh) {
      fail(record.line, fmt::format("{} is also on line {}: one row per address",
                                    quote_value(address), first->second));
      continue;
    }
    CsvUser row;
    row.user.address = std::move(address);
    row.user.tenant = std::move(tenant);
    row.user.permissions = std::move(permissions);
    row.user.display_name = field("display_name");
    row.user.aliases = split_list(field("aliases"));
    row.user.fax_numbers = split_list(field("fax_numbers"));
    row.user.mobile_numbers = split_list(field("mobile_numbers"));
    row.user.send_as = split_list(field("send_as"));
    // The optional columns: addresses checked, numbers to E.164, lists sorted.
    std::vector<FieldError> problems = normalise_user(row.user, "", normalise);
    for (const FieldError& e : problems) {
      std::string_view column = std::string_view(e.field).substr(0, e.field.find('['));
      fail(record.line, column.empty() ? e.message : fmt::format("{}: {}", column, e.message));
    }
    if (!problems.empty()) continue;
    row.line = record.line;
    users.push_back(std::move(row));
  }
  if (!errors.empty()) return joined_csv_errors(errors, where);
  if (users.empty() && !options.allow_empty)
    return Error{fmt::format(
        "{}: no users after the header; importing it would remove every user (--allow-empty "
        "does that)",
        where)};
  return users;
}

Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source,
                                          const CsvOptions& options) {
  auto read = read_users_csv(text, source, options);
  if (!read) return read.error();
  std::vector<User> users;
  for (auto& row : *read) users.push_back(std::move(row.user));
  return users;
}

std::vector<std::string> unused_permission_warnings(const std::vector<CsvUser>& users,
                                                    const std::set<std::string>& services,
                                                    const std::string& source) {
  std::map<std::string, std::vector<std::size_t>> unused;
  for (const CsvUser& row : users)
    for (const std::string& permission : row.user.permissions)
      if (!services.contains(permission)) unused[permission].push_back(row.line);
  std::vector<std::string> warnings;
  for (const auto& [permission, lines] : unused) {
    std::string list;
    for (std::size_t i = 0; i < lines.size() && i < 5; ++i)
      list += (list.empty() ? "" : ", ") + std::to_string(lines[i]);
    if (lines.size() > 5) list += fmt::format(" and {} more", lines.size() - 5);
    warnings.push_back(fmt::format(
        "{}: warning: permission {} (line{} {}) is the service of no route; it has no effect",
        printable(source), quote_value(permission), lines.size() > 1 ? "s" : "", list));
  }
  return warnings;
}

std::string write_users_csv(const std::vector<User>& users) {
  std::vector<std::string> header = kUserRequired;
  header.insert(header.end(), kUserOptional.begin(), kUserOptional.end());
  std::string out = csv_record(header);
  for (const User& user : users)
    out += csv_record({user.address, user.tenant, join_list(user.permissions), user.display_name,
                       join_list(user.aliases), join_list(user.fax_numbers),
                       join_list(user.mobile_numbers), join_list(user.send_as)});
  return out;
}

}  // namespace bh::directory
