#include "m365/setup_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "m365/setup.hpp"
#include "server/config.hpp"
#include "server/stamp_keys.hpp"

namespace bh::m365 {
namespace {

// The key ids of the processed stamp, current first: the transport rule's
// exception names them. The keys themselves stay in this process.
void read_stamp_key_ids(const Config& config, SetupInput& input) {
  auto current = read_stamp_key(config.stamp.key_file);
  if (!current) {
    input.stamp_key_problem = current.error().message;
    return;
  }
  input.stamp_key_ids.push_back(stamp_key_id(*current));
  if (config.stamp.previous_key_file.empty()) return;
  auto previous = read_stamp_key(config.stamp.previous_key_file);
  if (!previous) {
    input.stamp_key_ids.clear();
    input.stamp_key_problem = "previous_key_file: " + previous.error().message;
    return;
  }
  input.stamp_key_ids.push_back(stamp_key_id(*previous));
}

}  // namespace

CLI::App* add_m365_command(CLI::App& app) {
  auto* m365 = app.add_subcommand("m365", "Exchange Online (docs/m365-setup.md)");
  m365->require_subcommand(1);
  auto* setup = m365->add_subcommand(
      "setup", "Print the Exchange Online PowerShell for a topology and tenant");
  // Everything after "setup" is left for m365_command (see the header).
  setup->set_help_flag();
  setup->prefix_command();
  return m365;
}

int m365_command(CLI::App& m365, std::ostream& out, std::ostream& err) {
  CLI::App* sub = m365.get_subcommand("setup");
  std::string config_path, topology, tenant;
  CLI::App app{"The Exchange Online PowerShell that matches this gateway's configuration",
               "bridgehead m365 setup"};
  app.add_option("-c,--config", config_path, "TOML configuration file")->required();
  app.add_option("--topology", topology, "davor, daneben1, daneben2 or service")->required();
  app.add_option("--tenant", tenant, "tenant id or name (needed when several are configured)");
  std::vector<std::string> args = sub->remaining();
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "m365 setup: " << e.what() << "\n";
    return 2;
  }
  SetupInput input;
  if (auto parsed = topology_from(topology)) {
    input.topology = *parsed;
  } else {
    err << "m365 setup: --topology must be davor, daneben1, daneben2 or service\n";
    return 2;
  }
  input.tenant = tenant;
  auto config = load_config_file(config_path);
  if (!config) {
    err << config.error().message << "\n";
    return 2;
  }
  input.certificates = read_configured_certificates(*config);
  if (input.topology == Topology::daneben1 || input.topology == Topology::daneben2)
    read_stamp_key_ids(*config, input);
  auto script = generate_setup(*config, input);
  if (!script) {
    err << script.error().message << "\n";
    return 2;
  }
  for (const std::string& warning : script->warnings) err << warning << "\n";
  out << script->text;
  return 0;
}

}  // namespace bh::m365
