#include "server/directory_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "directory/directory_store.hpp"
#include "directory/phone_number.hpp"
#include "directory/store_lists.hpp"
#include "server/config.hpp"
#include "server/directory_csv_cli.hpp"
#include "server/directory_sync_cli.hpp"
#include "store/database.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

using directory::DirectoryStore;

std::string to_lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ";") + item;
  return printable(out);
}

// address, tenant and permissions, one user a line (as before the full model).
int list_users(DirectoryStore& store, const std::string& tenant, std::ostream& out,
               std::ostream& err) {
  auto users = directory::all_users(store, to_lower(tenant));
  if (!users) {
    err << printable(users.error().message) << "\n";
    return 1;
  }
  for (const auto& user : *users)
    out << printable(user.address) << " " << printable(user.tenant) << " "
        << joined(user.permissions) << "\n";
  out << "-- " << users->size() << " user(s)\n";
  return 0;
}

int list_tenants(DirectoryStore& store, std::ostream& out, std::ostream& err) {
  auto tenants = directory::all_tenants(store);
  if (!tenants) {
    err << printable(tenants.error().message) << "\n";
    return 1;
  }
  for (const auto& tenant : *tenants)
    out << printable(tenant.id) << " \"" << printable(tenant.name) << "\" "
        << joined(tenant.domains) << "\n";
  out << "-- " << tenants->size() << " tenant(s)\n";
  return 0;
}

void show_user(const directory::User& user, std::ostream& out) {
  out << "user " << printable(user.address) << "\n"
      << "  tenant: " << printable(user.tenant) << "\n"
      << "  display_name: " << printable(user.display_name) << "\n"
      << "  aliases: " << joined(user.aliases) << "\n"
      << "  fax_numbers: " << joined(user.fax_numbers) << "\n"
      << "  mobile_numbers: " << joined(user.mobile_numbers) << "\n"
      << "  permissions: " << joined(user.permissions) << "\n"
      << "  send_as: " << joined(user.send_as) << "\n";
}

// A user by address or alias; a number as a service number and as the
// fax or mobile number of users.
int show(DirectoryStore& store, const Config& config, const std::string& what, std::ostream& out,
         std::ostream& err) {
  if (what.find('@') != std::string::npos) {
    auto user = store.user(to_lower(what));
    if (!user) {
      err << printable(user.error().message) << "\n";
      return 1;
    }
    if (!*user) {
      err << "\"" << printable(what) << "\" is no user's address or alias\n";
      return 1;
    }
    show_user(**user, out);
    return 0;
  }
  auto e164 = directory::to_e164(what, config.directory.default_region);
  if (!e164) {
    err << "\"" << printable(what)
        << "\": neither an address nor a phone number: " << printable(e164.error().message) << "\n";
    return 1;
  }
  auto number = store.number(*e164);
  auto data = store.load();  // user numbers have no index of their own here
  if (!number || !data) {
    err << printable((!number ? number.error() : data.error()).message) << "\n";
    return 1;
  }
  bool found = false;
  if (*number) {
    const directory::ServiceNumber& n = **number;
    out << "service number " << printable(n.number) << "\n"
        << "  tenant: " << printable(n.tenant) << "\n"
        << "  mailbox: " << printable(n.mailbox) << "\n"
        << "  service: " << printable(n.service) << "\n"
        << "  description: " << printable(n.description) << "\n";
    found = true;
  }
  for (const auto& user : data->users) {
    auto has = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), *e164) != list.end();
    };
    if (has(user.fax_numbers) || has(user.mobile_numbers)) {
      show_user(user, out);
      found = true;
    }
  }
  if (!found) {
    err << printable(*e164) << " is not in the directory\n";
    return 1;
  }
  return 0;
}

}  // namespace

CLI::App* add_directory_command(CLI::App& app) {
  auto* directory =
      app.add_subcommand("directory", "Tenants, users and service numbers (docs/directory.md)");
  // Everything after "directory" is left for directory_command (see the header).
  directory->set_help_flag();
  directory->prefix_command();
  return directory;
}

int directory_command(CLI::App& directory, std::ostream& out, std::ostream& err) {
  CLI::App app{"Tenants, users and service numbers in the store the gateway uses",
               "bridgehead directory"};
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: quickstart)");
  app.require_subcommand(1);

  std::string tenant;
  auto* list = app.add_subcommand("list", "List the users: address, tenant, permissions");
  list->add_option("--tenant", tenant, "only this tenant's");
  auto* tenants = app.add_subcommand("tenants", "List the tenants: id, name, domains");
  std::string what;
  auto* show_cmd = app.add_subcommand("show", "Show a user (by address or alias) or a number");
  show_cmd->add_option("what", what, "address or phone number")->required();

  CsvImportArgs import_args;
  auto* import = app.add_subcommand(
      "import", "Replace the users (or, with --numbers, the service numbers) with a CSV file's");
  import->add_option("file", import_args.file, "CSV file with a header row")->required();
  import->add_flag("--numbers", import_args.numbers, "a service numbers file");
  import->add_flag("--allow-empty", import_args.allow_empty,
                   "accept a file without rows (removes them all)");

  CsvExportArgs export_args;
  auto* export_cmd = app.add_subcommand("export", "Write the users (or numbers) as CSV");
  export_cmd->add_option("--tenant", export_args.tenant, "only this tenant's");
  export_cmd->add_flag("--numbers", export_args.numbers, "the service numbers");

  auto* sync = app.add_subcommand("sync", "Synchronise from an outside directory");
  sync->require_subcommand(1);
  SyncLdapArgs sync_args;
  std::int64_t every = 0;
  auto* ldap = sync->add_subcommand("ldap", "Read [[directory.ldap]] sources into their tenants");
  ldap->add_option("--tenant", sync_args.tenant, "only this tenant's source");
  auto* once = ldap->add_flag("--once", sync_args.once, "one pass, then exit");
  ldap->add_option("--every", every, "seconds between passes (default: each source's interval)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{7 * 86400}))
      ->excludes(once);
  // -c may come before or after the action.
  for (CLI::App* sub : {list, tenants, show_cmd, import, export_cmd, sync, ldap})
    sub->fallthrough();

  std::vector<std::string> args = directory.remaining();
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "directory: " << e.what() << "\n";
    return 2;
  }
  auto config = config_path.empty() ? quickstart_config() : load_config_file(config_path);
  if (!config) {
    err << config.error().message << "\n";
    return 2;
  }
  auto database = store::open_database(config->store);
  if (!database) {
    err << printable(database.error().message) << "\n";
    return 1;
  }
  auto store = DirectoryStore::open(*database);
  if (!store) {
    err << printable(store.error().message) << "\n";
    return 1;
  }
  if (list->parsed()) return list_users(**store, tenant, out, err);
  if (tenants->parsed()) return list_tenants(**store, out, err);
  if (show_cmd->parsed()) return show(**store, *config, what, out, err);
  if (import->parsed()) return import_csv_command(*config, **store, import_args, out, err);
  if (export_cmd->parsed()) return export_csv_command(*config, **store, export_args, out, err);
  if (every > 0) sync_args.every = every;
  return sync_ldap_command(*config, **store, sync_args, out, err);
}

}  // namespace bh
