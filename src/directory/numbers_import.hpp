// `bridgehead directory import --numbers`: the service numbers of a CSV
// file (numbers_csv.hpp) into the store, one transaction per tenant.
#pragma once

#include <string>
#include <vector>

#include "directory/directory_store.hpp"
#include "directory/numbers_csv.hpp"
#include "util/result.hpp"

namespace bh::directory {

struct NumbersImportSummary {
  std::size_t numbers = 0;
  std::size_t tenants = 0;
};

// For each tenant in the file, its service numbers become the file's; its
// users, name and domains are kept (a number's mailbox must be one of its
// users or their aliases). A tenant the store does not have is an error.
// Tenants not in the file keep their numbers, except for an empty file
// (accepted with --allow-empty), which removes the numbers of every
// tenant. An error names the file's line where it can.
Result<NumbersImportSummary> import_numbers(DirectoryStore& store,
                                            const std::vector<CsvNumber>& numbers,
                                            const std::string& source);

}  // namespace bh::directory
