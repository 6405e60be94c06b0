// The service numbers CSV of `bridgehead directory import --numbers` and
// `export --numbers` (docs/directory.md): one DID a row, the mailbox that
// owns it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "directory/model.hpp"
#include "directory/users_csv.hpp"
#include "util/result.hpp"

namespace bh::directory {

struct CsvNumber {
  ServiceNumber number;
  std::size_t line = 0;
};

// As read_users_csv (directory/csv.hpp's format), with the columns number,
// tenant and mailbox, and optionally service ("fax", "sms"; empty: both)
// and description. Numbers become E.164 (options.default_region for
// national ones); a number may appear once.
Result<std::vector<CsvNumber>> read_numbers_csv(std::string_view text, const std::string& source,
                                                const CsvOptions& options = {});

// Every column, one row per number in the order given.
std::string write_numbers_csv(const std::vector<ServiceNumber>& numbers);

}  // namespace bh::directory
