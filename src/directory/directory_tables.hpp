// The directory's tables (directory_store.cpp's SQL building blocks): the
// schema, rows to model values and back, and the writes that keep the
// address and number index tables in step with the users and numbers.
// Every function runs inside the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "directory/directory_store.hpp"
#include "store/database.hpp"

namespace bh::directory::tables {

const std::vector<store::Migration>& migrations();

std::string join(const std::vector<std::string>& list);
std::vector<std::string> split(const std::string& text);
// StoreErrc::invalid naming the first field errors.
Error invalid(const std::vector<FieldError>& errors);
// A value quoted and escaped for an error message.
std::string shown(std::string_view text);

inline constexpr std::string_view kUserColumns =
    "address, tenant, display_name, aliases, fax_numbers, mobile_numbers, permissions, send_as";
Tenant tenant_of(const store::Row& row);
User user_of(const store::Row& row);  // the columns of kUserColumns
ServiceNumber number_of(const store::Row& row);

Status check_page(const Page& page);
// First in every changing transaction (see directory_tables.cpp).
Status bump_version(store::Connection& c);
Result<bool> tenant_exists(store::Connection& c, const std::string& id);
// Also claims the tenant's domains in the domain index: a domain another
// tenant has is StoreErrc::conflict.
Status upsert_tenant(store::Connection& c, const Tenant& tenant);
Status delete_tenant_domains(store::Connection& c, const std::string& id);
// Removes the user's rows and index entries (not its service numbers).
Status delete_user_rows(store::Connection& c, const std::string& address);
// Inserts validated users whose old rows are gone, in batched statements
// (a push of thousands takes a few dozen round trips). An address or
// number that someone else has is StoreErrc::conflict naming the owner:
// the first such conflict of the users in order, as if each were inserted
// on its own.
Status insert_users(store::Connection& c, const std::vector<User>& users);
// The mailbox of a service number must be an address of its tenant.
Status check_mailbox(store::Connection& c, const ServiceNumber& number);
// Inserts validated service numbers whose old rows are gone (batched as
// insert_users); a number someone else has is StoreErrc::conflict.
Status insert_numbers(store::Connection& c, const std::vector<ServiceNumber>& numbers);
// The service number's rows (not a user's number of the same value).
Status delete_number_rows(store::Connection& c, const std::string& e164);
// Who has the number in the number index: nullopt if nobody, else the
// owning user's address ("" for a service number) and tenant.
struct NumberOwnerRow {
  std::string owner;
  std::string tenant;
};
Result<std::optional<NumberOwnerRow>> number_owner(store::Connection& c, const std::string& e164);
Status delete_tenant_rows(store::Connection& c, const std::string& id);

}  // namespace bh::directory::tables
