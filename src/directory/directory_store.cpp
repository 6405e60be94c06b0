#include "directory/directory_store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "directory/directory_tables.hpp"
#include "directory/validate.hpp"
#include "mail/address.hpp"
#include "store/store_error.hpp"
#include "util/printable.hpp"

namespace bh::directory {

// The building blocks of the statements below.
using namespace tables;
using store::Connection;
using store::Params;
using store::Row;
using store::StoreErrc;

Result<std::unique_ptr<DirectoryStore>> DirectoryStore::open(std::shared_ptr<store::Database> db) {
  if (Status migrated = db->migrate("directory", migrations()); !migrated) return migrated.error();
  return std::unique_ptr<DirectoryStore>(new DirectoryStore(std::move(db)));
}

namespace {

// StoreErrc::conflict when a service number goes to `mailbox`.
Status check_no_number_for(Connection& c, const std::string& mailbox) {
  auto numbers = c.query("SELECT number FROM directory_numbers WHERE mailbox = $1", {mailbox});
  if (!numbers) return numbers.error();
  if (!numbers->empty())
    return store::store_error(
        StoreErrc::conflict,
        fmt::format("number {} goes to {}: remove it or give it another mailbox first",
                    numbers->front().text(0), shown(mailbox)));
  return ok_status();
}

}  // namespace

Result<std::vector<Tenant>> DirectoryStore::tenants(const Page& page) const {
  if (Status s = check_page(page); !s) return s.error();
  auto rows = db_->query(
      "SELECT id, name, domains FROM directory_tenants WHERE id > $1 ORDER BY id LIMIT $2",
      {page.after, std::int64_t{page.limit}});
  if (!rows) return rows.error();
  std::vector<Tenant> out;
  for (const Row& row : *rows) out.push_back(tenant_of(row));
  return out;
}

Result<std::optional<Tenant>> DirectoryStore::tenant(const std::string& id) const {
  auto rows = db_->query("SELECT id, name, domains FROM directory_tenants WHERE id = $1",
                         {to_lower_ascii(id)});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Tenant>();
  return std::optional<Tenant>(tenant_of(rows->front()));
}

Status DirectoryStore::put_tenant(const Tenant& given) {
  Tenant tenant = given;
  if (auto errors = normalise_tenant(tenant, ""); !errors.empty()) return invalid(errors);
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    return upsert_tenant(c, tenant);
  });
}

Status DirectoryStore::remove_tenant(const std::string& given) {
  std::string id = to_lower_ascii(given);
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    auto removed = c.execute("DELETE FROM directory_tenants WHERE id = $1", {id});
    if (!removed) return removed.error();
    if (*removed == 0) return store::store_error(StoreErrc::not_found, "no tenant " + shown(id));
    if (Status s = delete_tenant_domains(c, id); !s) return s;
    return delete_tenant_rows(c, id);
  });
}

Result<std::vector<User>> DirectoryStore::users(const std::string& tenant, const Page& page) const {
  if (Status s = check_page(page); !s) return s.error();
  std::string sql = fmt::format("SELECT {} FROM directory_users WHERE ", kUserColumns);
  Params params;
  if (tenant.empty()) {
    sql += "address > $1 ORDER BY address LIMIT $2";
    params = {page.after, std::int64_t{page.limit}};
  } else {
    sql += "tenant = $1 AND address > $2 ORDER BY tenant, address LIMIT $3";
    params = {to_lower_ascii(tenant), page.after, std::int64_t{page.limit}};
  }
  auto rows = db_->query(sql, params);
  if (!rows) return rows.error();
  std::vector<User> out;
  for (const Row& row : *rows) out.push_back(user_of(row));
  return out;
}

Result<std::optional<User>> DirectoryStore::user(const std::string& address) const {
  auto rows =
      db_->query(fmt::format("SELECT {} FROM directory_users WHERE address = (SELECT owner FROM "
                             "directory_addresses WHERE address = $1)",
                             kUserColumns),
                 {to_lower_ascii(address)});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<User>();
  return std::optional<User>(user_of(rows->front()));
}

Status DirectoryStore::put_user(const User& given) {
  User user = given;
  if (auto errors = normalise_user(user, "", {}); !errors.empty()) return invalid(errors);
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    auto exists = tenant_exists(c, user.tenant);
    if (!exists) return exists.error();
    if (!*exists)
      return store::store_error(StoreErrc::invalid,
                                "no tenant " + shown(user.tenant) + ": create the tenant first");
    auto current =
        c.query("SELECT tenant, aliases FROM directory_users WHERE address = $1", {user.address});
    if (!current) return current.error();
    if (!current->empty() && current->front().text(0) != user.tenant)
      return store::store_error(
          StoreErrc::conflict,
          fmt::format("user {} belongs to another tenant", shown(user.address)));
    // An alias that goes away may not leave a service number without its
    // mailbox (as remove_user checks).
    if (!current->empty())
      for (const std::string& alias : split(current->front().text(1)))
        if (std::find(user.aliases.begin(), user.aliases.end(), alias) == user.aliases.end())
          if (Status s = check_no_number_for(c, alias); !s) return s;
    if (Status s = delete_user_rows(c, user.address); !s) return s;
    return insert_users(c, {user});
  });
}

Status DirectoryStore::remove_user(const std::string& given) {
  std::string address = to_lower_ascii(given);
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    auto rows = c.query("SELECT aliases FROM directory_users WHERE address = $1", {address});
    if (!rows) return rows.error();
    if (rows->empty()) return store::store_error(StoreErrc::not_found, "no user " + shown(address));
    std::vector<std::string> mailboxes = split(rows->front().text(0));
    mailboxes.push_back(address);
    for (const std::string& mailbox : mailboxes)
      if (Status s = check_no_number_for(c, mailbox); !s) return s;
    return delete_user_rows(c, address);
  });
}

Result<std::vector<ServiceNumber>> DirectoryStore::numbers(const std::string& tenant,
                                                           const Page& page) const {
  if (Status s = check_page(page); !s) return s.error();
  constexpr std::string_view kColumns = "number, tenant, mailbox, service, description";
  std::string sql = fmt::format("SELECT {} FROM directory_numbers WHERE ", kColumns);
  Params params;
  if (tenant.empty()) {
    sql += "number > $1 ORDER BY number LIMIT $2";
    params = {page.after, std::int64_t{page.limit}};
  } else {
    sql += "tenant = $1 AND number > $2 ORDER BY tenant, number LIMIT $3";
    params = {to_lower_ascii(tenant), page.after, std::int64_t{page.limit}};
  }
  auto rows = db_->query(sql, params);
  if (!rows) return rows.error();
  std::vector<ServiceNumber> out;
  for (const Row& row : *rows) out.push_back(number_of(row));
  return out;
}

Result<std::optional<ServiceNumber>> DirectoryStore::number(const std::string& e164) const {
  auto rows = db_->query(
      "SELECT number, tenant, mailbox, service, description FROM directory_numbers WHERE number "
      "= $1",
      {e164});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<ServiceNumber>();
  return std::optional<ServiceNumber>(number_of(rows->front()));
}

Status DirectoryStore::put_number(const ServiceNumber& given) {
  ServiceNumber number = given;
  if (auto errors = normalise_number(number, "", {}); !errors.empty()) return invalid(errors);
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    auto exists = tenant_exists(c, number.tenant);
    if (!exists) return exists.error();
    if (!*exists)
      return store::store_error(StoreErrc::invalid,
                                "no tenant " + shown(number.tenant) + ": create the tenant first");
    // A user's fax or mobile number, or another tenant's service number, is
    // not the caller's to take over.
    auto current = number_owner(c, number.number);
    if (!current) return current.error();
    // Another tenant's holder is not named (a tenant learns nothing of another's users).
    if (*current && (*current)->tenant != number.tenant)
      return store::store_error(
          StoreErrc::conflict,
          fmt::format("number {} already belongs to another tenant", number.number));
    if (*current && !(*current)->owner.empty())
      return store::store_error(
          StoreErrc::conflict,
          fmt::format("number {} is a number of {}", number.number, shown((*current)->owner)));
    if (Status s = check_mailbox(c, number); !s) return s;
    if (Status s = delete_number_rows(c, number.number); !s) return s;
    return insert_numbers(c, {number});
  });
}

Status DirectoryStore::remove_number(const std::string& e164) {
  return db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    auto removed = c.execute("DELETE FROM directory_numbers WHERE number = $1", {e164});
    if (!removed) return removed.error();
    if (*removed == 0) return store::store_error(StoreErrc::not_found, "no number " + shown(e164));
    return delete_number_rows(c, e164);
  });
}

Result<std::int64_t> DirectoryStore::replace_tenant_directory(const TenantDirectory& given) {
  TenantDirectory directory = given;
  if (auto errors = normalise_directory(directory, {}); !errors.empty()) return invalid(errors);
  std::int64_t written = 0;
  Status replaced = db_->transaction([&](Connection& c) -> Status {
    if (Status s = bump_version(c); !s) return s;
    // The version this transaction wrote: its row lock (PostgreSQL) or the
    // writer's lock (SQLite) keeps other changes out until it commits.
    auto version = c.query("SELECT version FROM directory_version WHERE id = 1");
    if (!version) return version.error();
    written = version->empty() ? 0 : version->front().integer(0);
    if (Status s = upsert_tenant(c, directory.tenant); !s) return s;
    if (Status s = delete_tenant_rows(c, directory.tenant.id); !s) return s;
    // All users before the numbers, as the checks of one by one had them.
    if (Status s = insert_users(c, directory.users); !s) return s;
    return insert_numbers(c, directory.numbers);
  });
  if (!replaced) return replaced.error();
  return written;
}

Result<std::int64_t> DirectoryStore::version() const {
  auto rows = db_->query("SELECT version FROM directory_version WHERE id = 1");
  if (!rows) return rows.error();
  return rows->empty() ? std::int64_t{0} : rows->front().integer(0);
}

Result<DirectoryData> DirectoryStore::load() const {
  // One snapshot for every statement: PostgreSQL reads each statement at its
  // own snapshot under READ COMMITTED, so the transaction asks for REPEATABLE
  // READ first; SQLite's transaction is one snapshot already (on a read
  // connection: a push in progress does not hold up the caches' refresh).
  DirectoryData data;
  std::int64_t after = 0;
  Status read = db_->read_transaction([&](Connection& c) -> Status {
    if (db_->backend() == store::Backend::postgresql)
      if (Status s = c.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
          !s)
        return s;
    auto version = c.query("SELECT version FROM directory_version WHERE id = 1");
    if (!version) return version.error();
    data.version = version->empty() ? 0 : version->front().integer(0);
    auto tenants = c.query("SELECT id, name, domains FROM directory_tenants ORDER BY id");
    if (!tenants) return tenants.error();
    for (const Row& row : *tenants) data.tenants.push_back(tenant_of(row));
    auto users =
        c.query(fmt::format("SELECT {} FROM directory_users ORDER BY address", kUserColumns));
    if (!users) return users.error();
    for (const Row& row : *users) data.users.push_back(user_of(row));
    auto numbers = c.query(
        "SELECT number, tenant, mailbox, service, description FROM directory_numbers ORDER BY "
        "number");
    if (!numbers) return numbers.error();
    for (const Row& row : *numbers) data.numbers.push_back(number_of(row));
    auto again = c.query("SELECT version FROM directory_version WHERE id = 1");
    if (!again) return again.error();
    after = again->empty() ? 0 : again->front().integer(0);
    return ok_status();
  });
  if (!read) return read.error();
  // Cannot happen in one snapshot; if it does, mixed data is never returned.
  if (after != data.version)
    return store::store_error(StoreErrc::unavailable,
                              "the directory changed while it was read; try again");
  return data;
}

}  // namespace bh::directory
