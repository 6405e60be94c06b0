#include "server/ingest_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "connectors/fax/fax_kind.hpp"
#include "connectors/fax/ingest_files.hpp"
#include "connectors/fax/ingest_folder.hpp"
#include "server/config.hpp"
#include "util/clock.hpp"
#include "util/files.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {
namespace fs = std::filesystem;

struct IngestArgs {
  std::string config;
  std::string connector;
  connectors::fax::ReceivedFax fax;
  std::string file;
};

}  // namespace

CLI::App* add_ingest_command(CLI::App& app) {
  auto* ingest = app.add_subcommand("ingest", "Hand a received fax to the gateway");
  ingest->set_help_flag();
  ingest->prefix_command();  // everything after "ingest" is ingest_command's
  return ingest;
}

int ingest_command(CLI::App& sub, std::ostream& out, std::ostream& err) {
  IngestArgs args;
  CLI::App app{
      "Hand a received fax to the gateway: it becomes a mail to the called number's "
      "mailbox",
      "bridgehead ingest"};
  app.require_subcommand(1);
  // -c before or after "fax": `bridgehead ingest -c CONFIG fax ...` as well.
  app.add_option("-c,--config", args.config, "TOML configuration file (default: the quickstart)");
  auto* fax = app.add_subcommand("fax", "A received fax (TIFF) and its call's numbers");
  fax->add_option("-c,--config", args.config, "TOML configuration file (default: the quickstart)");
  fax->add_option("--connector", args.connector, "the fax connector (default: the only one)");
  fax->add_option("--called", args.fax.called, "the number that was called (the DID)")->required();
  fax->add_option("--caller", args.fax.caller, "the caller id number");
  fax->add_option("--caller-name", args.fax.caller_name, "the caller id name");
  fax->add_option("--tsi", args.fax.tsi, "the sending station's identifier (TSI)");
  fax->add_option("file", args.file, "the received fax, a TIFF")->required();
  std::vector<std::string> remaining = sub.remaining();
  std::reverse(remaining.begin(), remaining.end());  // CLI11 parses a reversed vector
  try {
    app.parse(remaining);
  } catch (const CLI::CallForHelp&) {
    out << app.help() << fax->help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "ingest: " << e.what() << "\n";
    return 2;
  }
  auto config = args.config.empty() ? quickstart_config() : load_config_file(args.config);
  if (!config) {
    err << config.error().message << "\n";
    return 2;
  }
  const connectors::ConnectorSettings* chosen = nullptr;
  int fax_connectors = 0;
  for (const connectors::ConnectorSettings& c : config->connectors) {
    bool is_fax = connectors::fax_settings(c.spec.get()) != nullptr;
    fax_connectors += is_fax ? 1 : 0;
    if (args.connector.empty() ? is_fax && chosen == nullptr : c.name == args.connector)
      chosen = &c;
  }
  if (chosen == nullptr) {
    err << (args.connector.empty()
                ? "ingest: the configuration has no fax connector\n"
                : "ingest: no connector is named \"" + printable(args.connector) + "\"\n");
    return 2;
  }
  if (args.connector.empty() && fax_connectors > 1) {
    err << "ingest: there are several fax connectors: name one with --connector\n";
    return 2;
  }
  const connectors::fax::FaxSettings* settings = connectors::fax_settings(chosen->spec.get());
  if (settings == nullptr) {
    err << "ingest: connector \"" << printable(chosen->name) << "\" is not a fax connector\n";
    return 2;
  }
  auto tiff = read_whole_file(args.file);
  if (!tiff) {
    err << "ingest: " << tiff.error().message << "\n";
    return 2;
  }
  if (!connectors::fax::looks_like_tiff(*tiff)) {
    err << "ingest: " << printable(args.file) << " is not a TIFF file\n";
    return 2;
  }
  if (tiff->size() > settings->ingest.max_bytes) {
    err << fmt::format("ingest: {} is larger than ingest_max_size ({} bytes)\n",
                       printable(args.file), settings->ingest.max_bytes);
    return 2;
  }
  fs::path folder = connectors::fax::ingest_directory_of(*settings);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    err << "ingest: the ingest folder " << folder.string() << ": " << ec.message() << "\n";
    return 2;
  }
  args.fax.received_at = unix_now();
  // Created exclusively and renamed without replacing (ingest_files.hpp):
  // nothing in the folder is followed or overwritten.
  auto dropped = connectors::fax::drop_fax_into(folder, *tiff, args.fax);
  if (!dropped) {
    err << "ingest: " << dropped.error().message << "\n";
    return 2;
  }
  const std::string& name = *dropped;
  out << (folder / (name + ".tif")).string() << "\n";
  return 0;
}

}  // namespace bh
