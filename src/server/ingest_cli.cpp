#include "server/ingest_cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "connectors/fax/fax_kind.hpp"
#include "connectors/fax/ingest_folder.hpp"
#include "server/config.hpp"
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

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A name no other drop has: the time (so the folder sorts by arrival), the
// process and random bits.
std::string unique_name(std::int64_t now) {
  std::random_device random;
  return fmt::format("fax-{}-{}-{:08x}", now, ::getpid(), random());
}

// Writes bytes to dir/.<name>.tmp, fsyncs it and renames it to dir/name.
Status write_durably(const fs::path& dir, const std::string& name, std::string_view bytes) {
  fs::path temp = dir / ("." + name + ".tmp");
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return system_error("create " + temp.string(), errno);
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return system_error("write " + temp.string(), error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return system_error("fsync " + temp.string(), error);
  }
  if (::rename(temp.c_str(), (dir / name).c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return system_error("rename " + temp.string(), error);
  }
  return ok_status();
}

bool is_tiff(std::string_view bytes) {
  return bytes.size() >= 8 && (bytes.starts_with(std::string_view("II*\0", 4)) ||
                               bytes.starts_with(std::string_view("MM\0*", 4)));
}

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
  if (!is_tiff(*tiff)) {
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
  std::string name = unique_name(args.fax.received_at);
  // The TIFF first, the job file last: a job file means the pair is complete.
  Status written = write_durably(folder, name + ".tif", *tiff);
  if (written)
    written = write_durably(folder, name + ".json", connectors::fax::fax_job_json(args.fax));
  if (written) written = sync_directory(folder);
  if (!written) {
    std::error_code ignored;
    fs::remove(folder / (name + ".json"), ignored);
    fs::remove(folder / (name + ".tif"), ignored);
    err << "ingest: " << written.error().message << "\n";
    return 2;
  }
  out << (folder / (name + ".tif")).string() << "\n";
  return 0;
}

}  // namespace bh
