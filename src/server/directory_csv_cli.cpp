#include "server/directory_csv_cli.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "directory/numbers_csv.hpp"
#include "directory/numbers_import.hpp"
#include "directory/store_lists.hpp"
#include "directory/users_csv.hpp"
#include "directory/users_import.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

using directory::DirectoryStore;

std::string to_lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{printable(path) + ": cannot open"};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int import_users(const Config& config, DirectoryStore& store, const CsvImportArgs& args,
                 const std::string& text, std::ostream& out, std::ostream& err) {
  directory::CsvOptions options{args.allow_empty, config.directory.default_region};
  auto rows = directory::read_users_csv(text, args.file, options);
  if (!rows) {
    err << rows.error().message << "\n";
    return 1;
  }
  std::set<std::string> services;
  for (const auto& route : config.routes)
    if (!route.service.empty()) services.insert(route.service);
  for (const auto& warning : directory::unused_permission_warnings(*rows, services, args.file))
    err << warning << "\n";
  auto summary = directory::import_users(store, *rows, args.file);
  if (!summary) {
    err << summary.error().message << "\n";
    return 1;
  }
  for (const auto& warning : summary->warnings) err << warning << "\n";
  out << "imported " << summary->users << " user(s) of " << summary->tenants << " tenant(s) into "
      << printable(store.database().describe()) << "\n";
  return 0;
}

int import_numbers(const Config& config, DirectoryStore& store, const CsvImportArgs& args,
                   const std::string& text, std::ostream& out, std::ostream& err) {
  directory::CsvOptions options{args.allow_empty, config.directory.default_region};
  auto rows = directory::read_numbers_csv(text, args.file, options);
  if (!rows) {
    err << rows.error().message << "\n";
    return 1;
  }
  auto summary = directory::import_numbers(store, *rows, args.file);
  if (!summary) {
    err << summary.error().message << "\n";
    return 1;
  }
  out << "imported " << summary->numbers << " service number(s) of " << summary->tenants
      << " tenant(s) into " << printable(store.database().describe()) << "\n";
  return 0;
}

}  // namespace

int import_csv_command(const Config& config, DirectoryStore& store, const CsvImportArgs& args,
                       std::ostream& out, std::ostream& err) {
  auto text = read_file(args.file);
  if (!text) {
    err << text.error().message << "\n";
    return 1;
  }
  return args.numbers ? import_numbers(config, store, args, *text, out, err)
                      : import_users(config, store, args, *text, out, err);
}

int export_csv_command(const Config& config, DirectoryStore& store, const CsvExportArgs& args,
                       std::ostream& out, std::ostream& err) {
  std::string tenant = to_lower(args.tenant);
  if (args.numbers) {
    auto numbers = directory::all_numbers(store, tenant);
    if (!numbers) {
      err << printable(numbers.error().message) << "\n";
      return 1;
    }
    out << directory::write_numbers_csv(*numbers);
    return 0;
  }
  auto users = directory::all_users(store, tenant);
  if (!users) {
    err << printable(users.error().message) << "\n";
    return 1;
  }
  out << directory::write_users_csv(*users);
  return 0;
}

}  // namespace bh
