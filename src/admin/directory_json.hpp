// The directory's objects as the admin API writes and reads them (JSON
// field names as in directory/model.hpp).
#pragma once

#include <boost/json/value.hpp>

#include "admin/json_fields.hpp"
#include "directory/model.hpp"

namespace bh::admin {

boost::json::object to_json(const directory::Tenant& tenant);
boost::json::object to_json(const directory::User& user);
boost::json::object to_json(const directory::ServiceNumber& number);

// Each reads the fields of its object (unknown ones are reported by the
// reader); id_required: the id is in the body, not only in the path.
// *domains_given (when not null): whether the body has "domains" (omitted
// domains keep the stored ones).
void read_tenant(FieldReader& r, directory::Tenant& tenant, bool id_required,
                 bool* domains_given = nullptr);
void read_user(FieldReader& r, directory::User& user, bool address_required);
void read_number(FieldReader& r, directory::ServiceNumber& number, bool number_required);
// PUT /v1/tenants/{id}/directory: {"tenant": {...}, "users": [...], "numbers": [...]}.
void read_directory(FieldReader& r, directory::TenantDirectory& directory,
                    bool* domains_given = nullptr);

}  // namespace bh::admin
