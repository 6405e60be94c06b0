// The directory's data: tenants, users and service numbers, as the API, the
// CSV files and the LDAP sync write it and the policy and ingest read it.
// Values are normalised before they are stored: addresses in lower case,
// phone numbers in E.164 (+4930123456), tenant ids as lower-case GUIDs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bh::directory {

struct Tenant {
  std::string id;                    // GUID, lower case (the Entra tenant id)
  std::string name;                  // display name
  std::vector<std::string> domains;  // accepted domains, lower case
};

struct User {
  std::string address;  // primary SMTP address, lower case
  std::string tenant;   // tenant id
  std::string display_name;
  std::vector<std::string> aliases;         // further addresses (Exchange proxyAddresses)
  std::vector<std::string> fax_numbers;     // E.164
  std::vector<std::string> mobile_numbers;  // E.164
  std::vector<std::string> permissions;     // services: "fax", "sms", ...
  // Mailboxes this user may send as (send-as delegations, e.g. a shared
  // mailbox): a From: of one of them passes the sender check when the user
  // has the service permission.
  std::vector<std::string> send_as;

  bool may(std::string_view service) const {
    for (const auto& p : permissions)
      if (p == service) return true;
    return false;
  }
};

// A number that belongs to a mailbox (a DID of a fax line, an SMS number):
// ingest looks it up to find whom an incoming fax or SMS is for.
struct ServiceNumber {
  std::string number;   // E.164
  std::string tenant;   // tenant id
  std::string mailbox;  // the owning (often shared) mailbox, lower case
  std::string service;  // "fax", "sms", or "" for both
  std::string description;
};

// One tenant's whole directory, as PUT /v1/tenants/{id}/directory,
// `directory import` and the LDAP sync replace it.
struct TenantDirectory {
  Tenant tenant;
  std::vector<User> users;
  std::vector<ServiceNumber> numbers;
};

// One bad field, named the way the caller wrote it ("users[3].fax_numbers[0]",
// "line 12: mobile"): the API answers 400 with all of them.
struct FieldError {
  std::string field;
  std::string message;
};

}  // namespace bh::directory
