// bridgehead: the command line (run, check-config, queue ...).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "m365/setup_cli.hpp"
#include "queue/admin.hpp"
#include "server/config.hpp"
#include "server/config_store.hpp"
#include "server/directory_cli.hpp"
#include "server/gateway.hpp"
#include "server/ingest_cli.hpp"
#include "server/rules_cli.hpp"
#include "server/token_cli.hpp"
#include "server/trace_cli.hpp"
#include "util/printable.hpp"

namespace {

bh::Result<bh::Config> config_from(const std::string& path) {
  if (path.empty()) return bh::quickstart_config();
  return bh::load_config_file(path);
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

  CLI::App* rules = bh::add_rules_command(app);  // loads its own configuration: exits 2 on errors
  CLI::App* directory = bh::add_directory_command(app);  // the same
  CLI::App* m365 = bh::m365::add_m365_command(app);      // the same: exits 2 on problems
  CLI::App* trace = bh::add_trace_command(app);          // the same: exits 2 on bad arguments
  CLI::App* ingest = bh::add_ingest_command(app);        // the same: exits 2 on problems
  CLI::App* tokens = bh::add_token_command(app, config_path);

  CLI11_PARSE(app, argc, argv);
  if (rules->parsed()) return bh::rules_command(*rules, std::cout, std::cerr);
  if (directory->parsed()) return bh::directory_command(*directory, std::cout, std::cerr);
  if (m365->parsed()) return bh::m365::m365_command(*m365, std::cout, std::cerr);
  if (trace->parsed()) return bh::trace_command(*trace, std::cout, std::cerr);
  if (ingest->parsed()) return bh::ingest_command(*ingest, std::cout, std::cerr);

  auto config = config_from(config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  if (check->parsed()) {
    auto problems = bh::check_resources(*config);
    for (const auto& problem : problems) std::cerr << problem << "\n";
    if (!problems.empty()) return 1;
    if (std::string warning = bh::store_pool_warning(*config); !warning.empty())
      std::cerr << "warning: " << warning << "\n";
    std::cout << config_path << ": ok\n";
    return 0;
  }
  if (run->parsed()) return bh::run_gateway(*config);
  if (tokens->parsed()) return bh::token_command(*tokens, *config, std::cout, std::cerr);

  bh::queue::Spool spool(config->queue.directory);
  if (list->parsed()) return bh::queue::admin_list(spool, std::cout);
  if (flush->parsed()) return bh::queue::admin_flush(spool, std::cout);
  for (auto& command : id_commands)
    if (command.sub->parsed()) return command.action(spool, id, std::cout, std::cerr);
  return 1;
}
