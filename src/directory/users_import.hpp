// `bridgehead directory import`: the users of a CSV file (users_csv.hpp)
// into the store, one transaction per tenant of the file.
#pragma once

#include <string>
#include <vector>

#include "directory/directory_store.hpp"
#include "directory/users_csv.hpp"
#include "util/result.hpp"

namespace bh::directory {

struct ImportSummary {
  std::size_t users = 0;
  std::size_t tenants = 0;
  std::vector<std::string> warnings;  // service numbers dropped with their mailbox
};

// For each tenant in the file, its users become the file's (tenants not in
// the store yet are created with just their id; name, domains and service
// numbers are kept, except numbers whose mailbox is gone). Tenants not in
// the file keep their users, except for an empty file (accepted with
// --allow-empty), which removes the users of every tenant. An error names
// the file's line where it can.
Result<ImportSummary> import_users(DirectoryStore& store, const std::vector<CsvUser>& users,
                                   const std::string& source);

}  // namespace bh::directory
