// Checking and normalising directory values before they are stored: one
// rule set for the API, the CSV files and the LDAP sync. Each function
// normalises in place (addresses lower case, numbers to E.164, GUIDs lower
// case, lists sorted without repeats) and returns every bad field, named
// with `prefix` ("users[3]" gives "users[3].fax_numbers[0]").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "directory/model.hpp"

namespace bh::directory {

// The bounds of directory values: one place for the API, the CSV files
// and the LDAP sync (docs/api.md lists them).
struct DirectoryLimits {
  static constexpr std::size_t text = 256;        // a tenant's name, a display name, a description
  static constexpr std::size_t domains = 1000;    // accepted domains of one tenant
  static constexpr std::size_t aliases = 200;     // further addresses of one user
  static constexpr std::size_t numbers = 20;      // fax numbers, and mobile numbers, of one user
  static constexpr std::size_t permissions = 32;  // services of one user
  static constexpr std::size_t send_as = 200;     // delegations of one user
  static constexpr std::size_t users = 200'000;   // users of one tenant's directory
  static constexpr std::size_t service_numbers = 200'000;  // service numbers of one tenant
  static constexpr std::size_t errors = 100;               // field errors reported at most
};

struct NormaliseOptions {
  // ISO 3166 region for numbers written nationally ("030 123456" with "DE");
  // empty: only international numbers (+49..., 0049...) are accepted.
  std::string default_region;
};

std::vector<FieldError> normalise_tenant(Tenant& tenant, std::string_view prefix);
std::vector<FieldError> normalise_user(User& user, std::string_view prefix,
                                       const NormaliseOptions& options);
std::vector<FieldError> normalise_number(ServiceNumber& number, std::string_view prefix,
                                         const NormaliseOptions& options);
// The whole push: each object, and across them: users and numbers get the
// tenant's id (an explicit other tenant is an error), no address, alias or
// number twice, primary addresses, aliases and send_as mailboxes in the
// tenant's domains (when it has any: a tenant without domains does not
// restrict them), a number's mailbox among the users or their aliases.
std::vector<FieldError> normalise_directory(TenantDirectory& directory,
                                            const NormaliseOptions& options);

}  // namespace bh::directory
