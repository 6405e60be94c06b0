#include "directory/directory_tables.hpp"

#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "store/batch.hpp"
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
    // Which tenant has a domain is no secret (Microsoft 365 answers it for
    // any domain); which user has an address or a number is (below).
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

namespace {

// Who has a key of an index table (an address, a number or a domain).
struct Owner {
  std::string owner;  // a user's primary address, "" for a service number
  std::string tenant;
};
using Owners = std::unordered_map<std::string, Owner>;

std::string domain_of(const std::string& address) {
  return address.substr(address.rfind('@') + 1);
}

// The index rows of the keys: `select` returns key, owner, tenant.
Result<Owners> owners_of(Connection& c, std::string_view select,
                         const std::set<std::string>& keys) {
  auto rows = store::select_in(c, select, std::vector<store::Value>(keys.begin(), keys.end()));
  if (!rows) return rows.error();
  Owners out;
  for (const Row& row : *rows) out[row.text(0)] = Owner{row.text(1), row.text(2)};
  return out;
}

// A user's fax and mobile numbers, each once (one may be both).
std::set<std::string> numbers_of(const User& user) {
  std::set<std::string> numbers(user.fax_numbers.begin(), user.fax_numbers.end());
  numbers.insert(user.mobile_numbers.begin(), user.mobile_numbers.end());
  return numbers;
}

// A key another tenant has is refused without naming who has it: a
// tenant's token must learn nothing of another tenant's users (an operator
// finds the owner with an all-tenant read, e.g. GET /v1/numbers/{number}).
std::string holder(const Owner& by, const std::string& claimer_tenant, std::string_view what) {
  if (by.tenant != claimer_tenant) return "another tenant";
  return by.owner.empty() ? std::string(what) : shown(by.owner);
}

Error address_taken(const std::string& field, const std::string& address, const Owner& by,
                    const std::string& claimer_tenant) {
  return store::store_error(StoreErrc::conflict,
                            fmt::format("{} {} is already used by {}", field, shown(address),
                                        holder(by, claimer_tenant, "a service number")));
}

Error number_taken(const std::string& number, const Owner& by, const std::string& claimer_tenant) {
  if (by.tenant != claimer_tenant)
    return store::store_error(StoreErrc::conflict,
                              fmt::format("number {} already belongs to another tenant", number));
  return store::store_error(
      StoreErrc::conflict,
      fmt::format("number {} is already {}", number,
                  by.owner.empty() ? "a service number" : "a number of " + shown(by.owner)));
}

// A domain's owner and tenant are both the tenant that has it.
constexpr std::string_view kDomainOwners =
    "SELECT domain, tenant, tenant FROM directory_domains WHERE domain IN";
constexpr std::string_view kAddressOwners =
    "SELECT address, owner, tenant FROM directory_addresses WHERE address IN";
constexpr std::string_view kNumberOwners =
    "SELECT number, owner, tenant FROM directory_number_owners WHERE number IN";

}  // namespace

// Removes the user's rows and index entries (not its service numbers).
Status delete_user_rows(Connection& c, const std::string& address) {
  for (std::string_view sql : {"DELETE FROM directory_users WHERE address = $1",
                               "DELETE FROM directory_addresses WHERE owner = $1",
                               "DELETE FROM directory_number_owners WHERE owner = $1"})
    if (auto done = c.execute(sql, {address}); !done) return done.error();
  return ok_status();
}

// Reads what the index tables have for all the users' addresses, domains
// and numbers (a few statements), checks each user in turn as if it were
// inserted on its own (so the first conflict is the one reported, whatever
// the batch), then writes all rows in batches (store/batch.hpp). Nothing
// can claim a key between the reads and the writes: bump_version, first in
// the transaction, serialises the directory's writers.
Status insert_users(Connection& c, const std::vector<User>& users) {
  std::set<std::string> addresses, domains, numbers;
  for (const User& user : users) {
    addresses.insert(user.address);
    addresses.insert(user.aliases.begin(), user.aliases.end());
    for (const std::string& number : numbers_of(user)) numbers.insert(number);
  }
  for (const std::string& address : addresses) domains.insert(domain_of(address));
  auto domain_owners = owners_of(c, kDomainOwners, domains);
  if (!domain_owners) return domain_owners.error();
  auto address_owners = owners_of(c, kAddressOwners, addresses);
  if (!address_owners) return address_owners.error();
  auto number_owners = owners_of(c, kNumberOwners, numbers);
  if (!number_owners) return number_owners.error();

  store::RowBatch address_rows(3), user_rows(8), number_rows(3);
  // The primary address is claimed first: another user's address or alias
  // is a conflict that names its owner, not a key violation.
  auto claim_address = [&](const std::string& address, const User& user,
                           const std::string& field) -> Status {
    // An address in another tenant's domain is that tenant's to give out (a
    // tenant without domains could otherwise claim it first).
    std::string domain = domain_of(address);
    if (auto owner = domain_owners->find(domain);
        owner != domain_owners->end() && owner->second.tenant != user.tenant)
      return store::store_error(StoreErrc::conflict,
                                fmt::format("{} {} is in domain {} of tenant {}", field,
                                            shown(address), shown(domain), owner->second.tenant));
    // Claimed by this batch too, as one insert after another would have it.
    auto [taken, fresh] = address_owners->try_emplace(address, Owner{user.address, user.tenant});
    if (!fresh) return address_taken(field, address, taken->second, user.tenant);
    address_rows.add({address, user.address, user.tenant});
    return ok_status();
  };
  for (const User& user : users) {
    if (Status s = claim_address(user.address, user, "address"); !s) return s;
    user_rows.add({user.address, user.tenant, user.display_name, join(user.aliases),
                   join(user.fax_numbers), join(user.mobile_numbers), join(user.permissions),
                   join(user.send_as)});
    for (const std::string& alias : user.aliases)
      if (Status s = claim_address(alias, user, "alias"); !s) return s;
    for (const std::string& number : numbers_of(user)) {
      auto [taken, fresh] = number_owners->try_emplace(number, Owner{user.address, user.tenant});
      if (!fresh) return number_taken(number, taken->second, user.tenant);
      number_rows.add({number, user.address, user.tenant});
    }
  }
  for (auto [head, rows] :
       {std::pair{"INSERT INTO directory_addresses (address, owner, tenant)", &address_rows},
        std::pair{"INSERT INTO directory_users (address, tenant, display_name, "
                  "aliases, fax_numbers, mobile_numbers, permissions, send_as)",
                  &user_rows},
        std::pair{"INSERT INTO directory_number_owners (number, owner, tenant)", &number_rows}})
    if (auto done = store::insert_rows(c, head, *rows); !done) return done.error();
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

Status insert_numbers(Connection& c, const std::vector<ServiceNumber>& numbers) {
  std::set<std::string> keys;
  for (const ServiceNumber& number : numbers) keys.insert(number.number);
  auto owners = owners_of(c, kNumberOwners, keys);
  if (!owners) return owners.error();
  store::RowBatch owner_rows(3), number_rows(5);
  for (const ServiceNumber& number : numbers) {
    auto [taken, fresh] = owners->try_emplace(number.number, Owner{"", number.tenant});
    if (!fresh) return number_taken(number.number, taken->second, number.tenant);
    owner_rows.add({number.number, std::string(), number.tenant});
    number_rows.add(
        {number.number, number.tenant, number.mailbox, number.service, number.description});
  }
  if (auto done = store::insert_rows(
          c, "INSERT INTO directory_number_owners (number, owner, tenant)", owner_rows);
      !done)
    return done.error();
  if (auto done = store::insert_rows(
          c, "INSERT INTO directory_numbers (number, tenant, mailbox, service, description)",
          number_rows);
      !done)
    return done.error();
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
