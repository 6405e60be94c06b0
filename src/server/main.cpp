// bridgehead: the command line (run, check-config, queue ...).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "directory/sqlite_directory.hpp"
#include "m365/setup_cli.hpp"
#include "queue/admin.hpp"
#include "server/config.hpp"
#include "server/gateway.hpp"
#include "server/rules_cli.hpp"
#include "util/printable.hpp"

namespace {

bh::Result<bh::Config> config_from(const std::string& path) {
  if (path.empty()) return bh::quickstart_config();
  return bh::load_config_file(path);
}

int directory_command(const bh::Config& config, bool import, const std::string& csv_path,
                      bool allow_empty) {
  auto store = bh::directory::SqliteDirectory::open(config.directory_database);
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  if (!import) {
    auto users = (*store)->list();
    if (!users) {
      std::cerr << users.error().message << "\n";
      return 1;
    }
    for (const auto& user : *users) {
      std::string permissions;
      for (const auto& p : user.permissions) permissions += (permissions.empty() ? "" : ";") + p;
      std::cout << bh::printable(user.address) << " " << bh::printable(user.tenant) << " "
                << bh::printable(permissions) << "\n";
    }
    std::cout << "-- " << users->size() << " user(s)\n";
    return 0;
  }
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) {
    std::cerr << bh::printable(csv_path) << ": cannot open\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = bh::directory::read_users_csv(text.str(), csv_path, {.allow_empty = allow_empty});
  if (!parsed) {
    std::cerr << parsed.error().message << "\n";
    return 1;
  }
  std::set<std::string> services;
  for (const auto& route : config.routes)
    if (!route.service.empty()) services.insert(route.service);
  for (const auto& warning : bh::directory::unused_permission_warnings(*parsed, services, csv_path))
    std::cerr << warning << "\n";
  std::vector<bh::directory::User> rows;
  for (auto& row : *parsed) rows.push_back(std::move(row.user));
  auto replaced = (*store)->replace_users(rows);
  if (!replaced) {
    std::cerr << replaced.error().message << "\n";
    return 1;
  }
  std::cout << "imported " << rows.size() << " user(s) into "
            << bh::printable(config.directory_database) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bridgehead: secure mail connector gateway"};
  app.require_subcommand(1);

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the gateway (quickstart defaults without -c)");
  run->add_option("-c,--config", config_path, "TOML configuration file");

  auto* check = app.add_subcommand("check-config", "Validate a configuration file");
  check->add_option("-c,--config", config_path, "TOML configuration file")->required();

  auto* queue = app.add_subcommand("queue", "Inspect and change the queue");
  queue->add_option("-c,--config", config_path, "TOML configuration file");
  queue->require_subcommand(1);
  std::string id;
  auto* list = queue->add_subcommand("list", "List every queued message");
  auto* flush = queue->add_subcommand("flush", "Try every deferred message now");
  // -c may come before or after the queue action.
  list->fallthrough();
  flush->fallthrough();
  struct IdCommand {
    const char* name;
    const char* help;
    int (*action)(const bh::queue::Spool&, const std::string&, std::ostream&, std::ostream&);
    CLI::App* sub = nullptr;
  };
  IdCommand id_commands[] = {
      {"show", "Show a message's envelope and header", bh::queue::admin_show},
      {"hold", "Keep a message from delivery", bh::queue::admin_hold},
      {"release", "Release a held message", bh::queue::admin_release},
      {"delete", "Delete a message", bh::queue::admin_delete},
      {"retry", "Try a deferred message now", bh::queue::admin_retry},
  };
  for (auto& command : id_commands) {
    command.sub = queue->add_subcommand(command.name, command.help);
    command.sub->add_option("id", id, "queue id")->required();
    command.sub->fallthrough();
  }

  auto* directory = app.add_subcommand("directory", "The user directory (SQLite)");
  directory->add_option("-c,--config", config_path, "TOML configuration file");
  directory->require_subcommand(1);
  std::string csv_path;
  auto* import = directory->add_subcommand("import", "Replace the users with a CSV file's");
  import->add_option("file", csv_path, "CSV: address,tenant,permissions")->required();
  bool allow_empty = false;
  import->add_flag("--allow-empty", allow_empty,
                   "Accept a file without users (removes every user)");
  import->fallthrough();
  auto* users = directory->add_subcommand("list", "List the users");
  users->fallthrough();

  CLI::App* rules = bh::add_rules_command(app);  // loads its own configuration: exits 2 on errors
  CLI::App* m365 = bh::m365::add_m365_command(app);  // the same: exits 2 on problems

  CLI11_PARSE(app, argc, argv);
  if (rules->parsed()) return bh::rules_command(*rules, std::cout, std::cerr);
  if (m365->parsed()) return bh::m365::m365_command(*m365, std::cout, std::cerr);

  auto config = config_from(config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  if (check->parsed()) {
    auto problems = bh::check_resources(*config);
    for (const auto& problem : problems) std::cerr << problem << "\n";
    if (!problems.empty()) return 1;
    std::cout << config_path << ": ok\n";
    return 0;
  }
  if (run->parsed()) return bh::run_gateway(*config);

  if (directory->parsed())
    return directory_command(*config, import->parsed(), csv_path, allow_empty);

  bh::queue::Spool spool(config->queue.directory);
  if (list->parsed()) return bh::queue::admin_list(spool, std::cout);
  if (flush->parsed()) return bh::queue::admin_flush(spool, std::cout);
  for (auto& command : id_commands)
    if (command.sub->parsed()) return command.action(spool, id, std::cout, std::cerr);
  return 1;
}
