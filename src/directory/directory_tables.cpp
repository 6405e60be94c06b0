#include "directory/directory_tables.hpp"

#include <set>

#include <fmt/format.h>

#include "store/store_error.hpp"
#include "util/printable.hpp"

namespace bh::directory::tables {

using store::Connection;
using store::Row;
using store::StoreErrc;

// Every address (primary or alias) and every number has one row in an
// index table naming its owner, so lookups and the "used elsewhere" checks
// are primary-key reads. Lists inside a row are joined with '\n', which no
// validated value contains.
constexpr std::string_view kSchemaV1 =
    "CREATE TABLE directory_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);"
    "INSERT INTO directory_version (id, version) VALUES (1, 0);"
    "CREATE TABLE directory_tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " domains TEXT NOT NULL);"
    "CREATE TABLE directory_users (address TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
    " display_name TEXT NOT NULL, aliases TEXT NOT NULL, fax_numbers TEXT NOT NULL,"
    " mobile_numbers TEXT NOT NULL, permissions TEXT NOT NULL, send_as TEXT NOT NULL);"
    "CREATE INDEX directory_users_by_tenant ON directory_users (tenant, address);"
    "CREATE TABLE directory_addresses (address TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " tenant TEXT NOT NULL);"
    "CREATE INDEX directory_addresses_by_owner ON directory_addresses (owner);"
    "CREATE INDEX directory_addresses_by_tenant ON directory_addresses (tenant);"
    // owner: the user's primary address, or "" for a service number.
    "CREATE TABLE directory_number_owners (number TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " tenant TEXT NOT NULL);"
    "CREATE INDEX directory_number_owners_by_owner ON directory_number_owners (owner);"
    "CREATE INDEX directory_number_owners_by_tenant ON directory_number_owners (tenant);"
    "CREATE TABLE directory_numbers (number TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
    " mailbox TEXT NOT NULL, service TEXT NOT NULL, description TEXT NOT NULL);"
    "CREATE INDEX directory_numbers_by_tenant ON directory_numbers (tenant, number);"
    "CREATE INDEX directory_numbers_by_mailbox ON directory_numbers (mailbox)";

// Version 2: every accepted domain names the one tenant that has it, so a
// tenant cannot list (and then claim addresses in) another tenant's domain.
// The index is filled from the tenants stored before; a domain that several
// of them listed goes to the first by id.
constexpr std::string_view kDomainsV2Sqlite =
    "CREATE TABLE directory_domains (domain TEXT PRIMARY KEY, tenant TEXT NOT NULL);"
    "CREATE INDEX directory_domains_by_tenant ON directory_domains (tenant);"
    "WITH RECURSIVE split(tenant, domain, rest) AS ("
    " SELECT id, '', domains || char(10) FROM directory_tenants"
    " UNION ALL SELECT tenant, substr(rest, 1, instr(rest, char(10)) - 1),"
    " substr(rest, instr(rest, char(10)) + 1) FROM split WHERE rest <> '')"
    " INSERT OR IGNORE INTO directory_domains (domain, tenant)"
    " SELECT domain, tenant FROM split WHERE domain <> '' ORDER BY tenant";
constexpr std::string_view kDomainsV2Postgresql =
    "CREATE TABLE directory_domains (domain TEXT PRIMARY KEY, tenant TEXT NOT NULL);"
    "CREATE INDEX directory_domains_by_tenant ON directory_domains (tenant);"
    "INSERT INTO directory_domains (domain, tenant)"
    " SELECT DISTINCT ON (d) d, id FROM directory_tenants,"
    " unnest(string_to_array(domains, E'\\n')) AS d WHERE d <> '' ORDER BY d, id";

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> list = {{1, kSchemaV1, {}},
                                                     {2, kDomainsV2Sqlite, kDomainsV2Postgresql}};
  return list;
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : "\n") + item;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Error invalid(const std::vector<FieldError>& errors) {
  std::string text;
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i)
    text +=
        (text.empty() ? "" : "; ") +
        (errors[i].field.empty() ? errors[i].message : errors[i].field + ": " + errors[i].message);
  if (errors.size() > 5) text += fmt::format("; and {} more", errors.size() - 5);
  return store::store_error(StoreErrc::invalid, text);
}

std::string shown(std::string_view text) {
  return "'" + printable(text) + "'";
}

Tenant tenant_of(const Row& row) {
  return Tenant{row.text(0), row.text(1), split(row.text(2))};
}

User user_of(const Row& row) {
  User user;
  user.address = row.text(0);
  user.tenant = row.text(1);
  user.display_name = row.text(2);
  user.aliases = split(row.text(3));
  user.fax_numbers = split(row.text(4));
  user.mobile_numbers = split(row.text(5));
  user.permissions = split(row.text(6));
  user.send_as = split(row.text(7));
  return user;
}

ServiceNumber number_of(const Row& row) {
  return ServiceNumber{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4)};
}

Status check_page(const Page& page) {
  if (page.limit < 1 || page.limit > 1000)
    return store::store_error(StoreErrc::invalid, "limit must be 1 to 1000");
  return ok_status();
}

// Every change bumps the version first: on PostgreSQL the row lock also
// serialises writers, so the "used elsewhere" checks below see what the
// writer before committed.
Status bump_version(Connection& c) {
  auto bumped = c.execute("UPDATE directory_version SET version = version + 1 WHERE id = 1");
  if (!bumped) return bumped.error();
  return ok_status();
}

Result<bool> tenant_exists(Connection& c, const std::string& id) {
  auto rows = c.query("SELECT id FROM directory_tenants WHERE id = $1", {id});
  if (!rows) return rows.error();
  return !rows->empty();
}

// The tenant's rows in the domain index replaced by its domains; a domain
// another tenant has is a conflict naming that tenant.
static Status claim_domains(Connection& c, const Tenant& tenant) {
  auto cleared = c.execute("DELETE FROM directory_domains WHERE tenant = $1", {tenant.id});
  if (!cleared) return cleared.error();
  for (const std::string& domain : tenant.domains) {
    auto inserted = c.execute(
        "INSERT INTO directory_domains (domain, tenant) VALUES ($1, $2) ON CONFLICT (domain) DO "
        "NOTHING",
        {domain, tenant.id});
    if (!inserted) return inserted.error();
    if (*inserted != 0) continue;
    auto owner = c.query("SELECT tenant FROM directory_domains WHERE domain = $1", {domain});
    if (!owner) return owner.error();
    return store::store_error(
        StoreErrc::conflict,
        fmt::format("domain {} belongs to tenant {}", shown(domain),
                    owner->empty() ? std::string("another tenant") : owner->front().text(0)));
  }
  return ok_status();
}

Status upsert_tenant(Connection& c, const Tenant& tenant) {
  if (Status s = claim_domains(c, tenant); !s) return s;
  auto done = c.execute(
      "INSERT INTO directory_tenants (id, name, domains) VALUES ($1, $2, $3) ON CONFLICT (id) DO "
      "UPDATE SET name = excluded.name, domains = excluded.domains",
      {tenant.id, tenant.name, join(tenant.domains)});
  if (!done) return done.error();
  return ok_status();
}

Status delete_tenant_domains(Connection& c, const std::string& id) {
  auto done = c.execute("DELETE FROM directory_domains WHERE tenant = $1", {id});
  if (!done) return done.error();
  return ok_status();
}

// Why `address` cannot be claimed: who has it.
static Error address_taken(Connection& c, const std::string& address, const std::string& field) {
  auto rows =
      c.query("SELECT owner, tenant FROM directory_addresses WHERE address = $1", {address});
  std::string owner = rows && !rows->empty() ? rows->front().text(0) : "another user";
  std::string tenant = rows && !rows->empty() ? rows->front().text(1) : "";
  return store::store_error(
      StoreErrc::conflict, fmt::format("{} {} is already used by {}{}", field, shown(address),
                                       shown(owner), tenant.empty() ? "" : " in tenant " + tenant));
}

static Error number_taken(Connection& c, const std::string& number) {
  auto rows =
      c.query("SELECT owner, tenant FROM directory_number_owners WHERE number = $1", {number});
  std::string owner = rows && !rows->empty() ? rows->front().text(0) : "";
  std::string tenant = rows && !rows->empty() ? rows->front().text(1) : "";
  return store::store_error(
      StoreErrc::conflict,
      fmt::format("number {} is already {}{}", number,
                  owner.empty() ? "a service number" : "a number of " + shown(owner),
                  tenant.empty() ? "" : " in tenant " + tenant));
}

static Status claim_address(Connection& c, const std::string& address, const User& user,
                            const std::string& field) {
  // An address in another tenant's domain is that tenant's to give out (a
  // tenant without domains could otherwise claim it first).
  std::string domain = address.substr(address.rfind('@') + 1);
  auto domain_owner = c.query("SELECT tenant FROM directory_domains WHERE domain = $1", {domain});
  if (!domain_owner) return domain_owner.error();
  if (!domain_owner->empty() && domain_owner->front().text(0) != user.tenant)
    return store::store_error(StoreErrc::conflict, fmt::format("{} {} is in domain {} of tenant {}",
                                                               field, shown(address), shown(domain),
                                                               domain_owner->front().text(0)));
  auto inserted = c.execute(
      "INSERT INTO directory_addresses (address, owner, tenant) VALUES ($1, $2, $3) ON CONFLICT "
      "(address) DO NOTHING",
      {address, user.address, user.tenant});
  if (!inserted) return inserted.error();
  if (*inserted == 0) return address_taken(c, address, field);
  return ok_status();
}

static Status claim_number(Connection& c, const std::string& number, const std::string& owner,
                           const std::string& tenant) {
  auto inserted = c.execute(
      "INSERT INTO directory_number_owners (number, owner, tenant) VALUES ($1, $2, $3) ON "
      "CONFLICT (number) DO NOTHING",
      {number, owner, tenant});
  if (!inserted) return inserted.error();
  if (*inserted == 0) return number_taken(c, number);
  return ok_status();
}

// Removes the user's rows and index entries (not its service numbers).
Status delete_user_rows(Connection& c, const std::string& address) {
  for (std::string_view sql : {"DELETE FROM directory_users WHERE address = $1",
                               "DELETE FROM directory_addresses WHERE owner = $1",
                               "DELETE FROM directory_number_owners WHERE owner = $1"})
    if (auto done = c.execute(sql, {address}); !done) return done.error();
  return ok_status();
}

// Inserts a validated user whose old rows are gone.
Status insert_user(Connection& c, const User& user) {
  // The primary address is claimed first: another user's address or alias
  // is a conflict that names its owner, not a key violation.
  if (Status s = claim_address(c, user.address, user, "address"); !s) return s;
  auto inserted = c.execute(
      "INSERT INTO directory_users (address, tenant, display_name, aliases, fax_numbers, "
      "mobile_numbers, permissions, send_as) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {user.address, user.tenant, user.display_name, join(user.aliases), join(user.fax_numbers),
       join(user.mobile_numbers), join(user.permissions), join(user.send_as)});
  if (!inserted) return inserted.error();
  for (const std::string& alias : user.aliases)
    if (Status s = claim_address(c, alias, user, "alias"); !s) return s;
  std::set<std::string> numbers(user.fax_numbers.begin(), user.fax_numbers.end());
  numbers.insert(user.mobile_numbers.begin(), user.mobile_numbers.end());
  for (const std::string& number : numbers)
    if (Status s = claim_number(c, number, user.address, user.tenant); !s) return s;
  return ok_status();
}

// The mailbox of a service number must be an address of its tenant.
Status check_mailbox(Connection& c, const ServiceNumber& number) {
  auto rows =
      c.query("SELECT tenant FROM directory_addresses WHERE address = $1", {number.mailbox});
  if (!rows) return rows.error();
  if (rows->empty() || rows->front().text(0) != number.tenant)
    return store::store_error(
        StoreErrc::invalid, fmt::format("mailbox {} of number {} is no user or alias of tenant {}",
                                        shown(number.mailbox), number.number, number.tenant));
  return ok_status();
}

Status insert_number(Connection& c, const ServiceNumber& number) {
  if (Status s = claim_number(c, number.number, "", number.tenant); !s) return s;
  auto inserted = c.execute(
      "INSERT INTO directory_numbers (number, tenant, mailbox, service, description) VALUES ($1, "
      "$2, $3, $4, $5)",
      {number.number, number.tenant, number.mailbox, number.service, number.description});
  if (!inserted) return inserted.error();
  return ok_status();
}

// Only the service number's own rows: a user's number of the same value is
// not touched (put_number refuses such a number before).
Status delete_number_rows(Connection& c, const std::string& e164) {
  for (std::string_view sql :
       {"DELETE FROM directory_numbers WHERE number = $1",
        "DELETE FROM directory_number_owners WHERE number = $1 AND owner = ''"})
    if (auto done = c.execute(sql, {e164}); !done) return done.error();
  return ok_status();
}

Result<std::optional<NumberOwnerRow>> number_owner(Connection& c, const std::string& e164) {
  auto rows =
      c.query("SELECT owner, tenant FROM directory_number_owners WHERE number = $1", {e164});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<NumberOwnerRow>();
  return std::optional<NumberOwnerRow>(
      NumberOwnerRow{rows->front().text(0), rows->front().text(1)});
}

Status delete_tenant_rows(Connection& c, const std::string& id) {
  for (std::string_view sql : {"DELETE FROM directory_users WHERE tenant = $1",
                               "DELETE FROM directory_addresses WHERE tenant = $1",
                               "DELETE FROM directory_number_owners WHERE tenant = $1",
                               "DELETE FROM directory_numbers WHERE tenant = $1"})
    if (auto done = c.execute(sql, {id}); !done) return done.error();
  return ok_status();
}

}  // namespace bh::directory::tables
