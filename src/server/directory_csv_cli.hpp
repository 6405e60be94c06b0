// `bridgehead directory import|export`: CSV files of users or service
// numbers (directory/users_csv.hpp has the formats), each tenant replaced
// at once (server/directory_cli.cpp parses the arguments).
#pragma once

#include <ostream>
#include <string>

#include "directory/directory_store.hpp"
#include "server/config.hpp"

namespace bh {

struct CsvImportArgs {
  std::string file;
  bool numbers = false;      // a service numbers file
  bool allow_empty = false;  // a file without rows (removes them all)
};

struct CsvExportArgs {
  std::string tenant;  // "": every tenant
  bool numbers = false;
};

int import_csv_command(const Config& config, directory::DirectoryStore& store,
                       const CsvImportArgs& args, std::ostream& out, std::ostream& err);
int export_csv_command(const Config& config, directory::DirectoryStore& store,
                       const CsvExportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace bh
