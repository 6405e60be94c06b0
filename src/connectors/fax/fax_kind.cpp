#include "connectors/fax/fax_kind.hpp"

#include <arpa/inet.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "connectors/destination_rules.hpp"
#include "connectors/fax/fax_connector.hpp"
#include "connectors/registry.hpp"
#include "directory/phone_number.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"
#include "util/secret_file.hpp"

namespace bh::connectors {
namespace {

using fax::FaxSettings;

// The HylaFAX password is one line; anything longer is not a password file.
constexpr std::size_t kMaxPasswordBytes = 1024;

class FaxSpec final : public ConnectorSpec {
 public:
  Result<std::shared_ptr<Connector>> build() const override {
    auto connector = fax::FaxConnector::create(settings);
    if (!connector) return connector.error();
    return std::shared_ptr<Connector>(*connector);
  }
  std::vector<std::string> check_resources() const override {
    std::vector<std::string> problems;
    for (const std::string& problem : fax::check_fax_resources(settings))
      problems.push_back("connector " + settings.name + ": " + problem);
    return problems;
  }
  FaxSettings settings;
};

void seconds(TableReader& r, const std::string& key, std::chrono::seconds& out, std::int64_t min,
             std::int64_t max) {
  std::int64_t value = out.count();
  r.number(key, value, min, max);
  out = std::chrono::seconds(value);
}

// A choice among names: "must be one of ...".
template <typename Value, typename From>
void choice(TableReader& r, const std::string& key, Value& out, From from,
            std::string_view allowed) {
  std::string text;
  r.text(key, text);
  if (const toml::node* node = r.node(key); node && node->is_string()) {
    if (auto value = from(text))
      out = *value;
    else
      r.error(*node, key, fmt::format("\"{}\" is not one of {}", printable(text), allowed));
  }
}

void read_hylafax(TableReader& r, fax::HylafaxSettings& h) {
  r.text("hylafax_host", h.host);
  if (const toml::node* node = r.node("hylafax_host"); node && node->is_string()) {
    unsigned char binary[sizeof(in6_addr)];
    bool ip = inet_pton(AF_INET, h.host.c_str(), binary) == 1 ||
              inet_pton(AF_INET6, h.host.c_str(), binary) == 1;
    if (std::string problem = hostname_problem(h.host); !ip && !problem.empty())
      r.error(*node, "hylafax_host",
              "\"" + printable(h.host) + "\" " + problem +
                  " (a host name or IP address; the "
                  "port is hylafax_port)");
  }
  r.number("hylafax_port", h.port, 1, 65535);
  r.text("hylafax_user", h.user);
  r.path("hylafax_password_file", h.password_file);
  r.path("hylafax_admin_password_file", h.admin_password_file);
  r.text("hylafax_modem", h.modem);
  seconds(r, "hylafax_timeout", h.timeout, 1, 3600);
  seconds(r, "kill_time", h.kill_time, 60, 86400 * 7);
  r.number("max_tries", h.max_tries, 1, 100);
  r.number("hylafax_max_dials", h.max_dials, 1, 100);
  r.text("hylafax_notify_address", h.notify_address);
}

void read_render(TableReader& r, fax::RenderHelper& render) {
  std::string program;
  r.path("render_helper", program);
  if (!program.empty()) render.program = program;
  r.text("render_user", render.limits.user);
  seconds(r, "render_cpu_seconds", render.limits.cpu, 1, 3600);
  seconds(r, "render_timeout", render.limits.wall, 1, 7200);
  r.number("render_memory", render.limits.memory_bytes, std::int64_t{64} << 20,
           std::int64_t{16} << 30);
  // "confined" (the default) or "unconfined" (tests and development only:
  // util/sandbox.hpp).
  choice(
      r, "render_sandbox", render.limits.unconfined,
      [](const std::string& text) -> std::optional<bool> {
        if (text == "confined") return false;
        if (text == "unconfined") return true;
        return std::nullopt;
      },
      "\"confined\", \"unconfined\"");
  r.number("render_uid_base", render.limits.uid_base, 0, std::int64_t{4294967295} - 64);
}

// The core's pending_timeout (server/config_connectors.cpp checks it), or its default.
std::int64_t pending_timeout_of(TableReader& r) {
  const toml::node* timeout = r.table().get("pending_timeout");
  std::int64_t pending = ConnectorSettings{}.pending_timeout.count();
  if (auto value = timeout ? timeout->value<std::int64_t>() : std::nullopt) pending = *value;
  return pending;
}

// report_thumbnail goes with the short report only: a DSN the sender asked
// for (success_notice = "dsn") carries no picture.
void read_thumbnail(TableReader& r, FaxSettings& s) {
  fax::ThumbnailSettings& t = s.thumbnail;
  r.boolean("report_thumbnail", t.enabled);
  r.number("report_thumbnail_width", t.width_px, render::kMinThumbnailWidth,
           render::kMaxThumbnailWidth);
  if (const toml::node* node = r.node("report_thumbnail");
      node && t.enabled && s.success_notice != fax::SuccessNotice::report)
    r.error(*node, "report_thumbnail", "is for success_notice = \"report\" (the short report)");
  // As with report_thumbnail above: a key that would do nothing is an error.
  if (const toml::node* node = r.table().get("report_thumbnail_width"); node && !t.enabled)
    r.error(*node, "report_thumbnail_width", "is for report_thumbnail = true");
  t.max_age = std::chrono::seconds(pending_timeout_of(r)) + fax::kThumbnailKeptPastTimeout;
}

void read_ingest(TableReader& r, FaxSettings& s) {
  fax::IngestSettings& in = s.ingest;
  std::string directory;
  r.path("ingest_directory", directory);
  if (!directory.empty()) in.directory = directory;
  seconds(r, "ingest_poll_interval", in.poll_interval, 1, 3600);
  r.text("ingest_reply_domain", in.reply_domain);
  r.text("catch_all", in.catch_all);
  r.boolean("attach_tiff", in.attach_tiff);
  r.text("ingest_sender", in.sender);
  r.number("ingest_max_pages", in.max_pages, 1, 10000);
  r.number("ingest_max_size", in.max_bytes, 1024, std::int64_t{4} << 30);
  if (in.reply_domain.empty() && !s.domains.empty()) in.reply_domain = s.domains.front();
  if (in.sender.empty()) in.sender = "postmaster@" + s.hostname;
}

std::shared_ptr<const ConnectorSpec> read(TableReader& r, const KindEnvironment& env) {
  auto spec = std::make_shared<FaxSpec>();
  FaxSettings& s = spec->settings;
  s.name = env.connector_name;
  s.hostname = env.hostname;
  choice(
      r, "backend", s.backend,
      [](std::string_view name) -> std::optional<fax::Backend> {
        if (name == "hylafax") return fax::Backend::hylafax;
        if (name == "spool") return fax::Backend::spool;
        return std::nullopt;
      },
      "\"hylafax\", \"spool\"");
  r.strings("domains", s.domains, true);
  if (const toml::node* node = r.node("domains"); node && node->is_array()) {
    const toml::array& items = *node->as_array();
    for (std::size_t i = 0; i < items.size() && i < s.domains.size(); ++i)
      if (std::string problem = hostname_problem(s.domains[i]); !problem.empty())
        r.error(*items.get(i), "domains", "\"" + printable(s.domains[i]) + "\" " + problem);
  }
  r.text("default_region", s.default_region);
  if (const toml::node* node = r.node("default_region");
      node && node->is_string() && !directory::known_region(s.default_region))
    r.error(*node, "default_region",
            "\"" + printable(s.default_region) +
                "\" is not a region libphonenumber knows (ISO 3166 code in upper case, e.g. "
                "\"DE\")");
  read_destination_rules(r, s.destinations);
  choice(r, "paper", s.format.paper, render::paper_from, "\"a4\", \"letter\"");
  choice(r, "resolution", s.format.resolution, render::resolution_from, "\"fine\", \"normal\"");
  choice(r, "compression", s.format.compression, render::compression_from, "\"g3\", \"g4\"");
  r.number("max_pages", s.max_pages, 1, 1000);
  r.number("max_message_size", s.max_message_bytes, 1024, std::int64_t{1} << 30);
  std::string cover;
  r.path("cover_template", cover);
  s.cover_template = cover;
  choice(
      r, "success_notice", s.success_notice,
      [](std::string_view name) -> std::optional<fax::SuccessNotice> {
        if (name == "dsn") return fax::SuccessNotice::dsn;
        if (name == "report") return fax::SuccessNotice::report;
        return std::nullopt;
      },
      "\"dsn\", \"report\"");
  read_thumbnail(r, s);
  read_render(r, s.render);
  r.number("max_parallel_renders", s.max_parallel_renders, 1, 64);
  std::string work;
  r.path("work_directory", work);
  s.work_directory = work;
  read_hylafax(r, s.hylafax);
  // The core reads pending_timeout (server/config_connectors.cpp): a wait
  // that ends before HylaFAX's kill time bounces faxes it may still send.
  if (s.backend == fax::Backend::hylafax) {
    const toml::node* timeout = r.table().get("pending_timeout");
    std::int64_t pending = pending_timeout_of(r);
    const toml::node* kill_time = r.table().get("kill_time");
    const toml::node& at = timeout ? *timeout : kill_time ? *kill_time : r.table();
    if (pending <= s.hylafax.kill_time.count())
      r.error(at, "pending_timeout",
              fmt::format("{} s must be longer than kill_time ({} s): the gateway would bounce a "
                          "fax HylaFAX may still send",
                          pending, s.hylafax.kill_time.count()));
  }
  std::string spool;
  r.path("spool_directory", spool, s.backend == fax::Backend::spool);
  s.spool.directory = spool;
  if (!spool.empty() && s.backend != fax::Backend::spool)
    r.error(*r.node("spool_directory"), "spool_directory", "is for backend = \"spool\" only");
  // One key for both backends: how often finished jobs are asked for.
  std::chrono::seconds poll =
      s.backend == fax::Backend::spool ? s.spool.poll_interval : s.hylafax.poll_interval;
  seconds(r, "poll_interval", poll, 1, 3600);
  s.spool.poll_interval = s.hylafax.poll_interval = poll;
  if (s.work_directory.empty()) {
    if (s.backend == fax::Backend::spool && !spool.empty())
      s.work_directory = s.spool.directory / "work";
    else if (s.backend == fax::Backend::hylafax)
      r.missing("work_directory");
  }
  read_ingest(r, s);
  return spec;
}

// A folder the connector writes to, or creates (create_directories) when
// it is missing: then its nearest existing ancestor must be writable.
void check_writable_directory(const std::filesystem::path& directory, const std::string& what,
                              std::vector<std::string>& problems) {
  std::error_code error;
  std::filesystem::path existing = directory;
  while (!std::filesystem::exists(existing, error) && existing.has_relative_path())
    existing = existing.parent_path();
  if (!std::filesystem::is_directory(existing, error))
    problems.push_back(
        fmt::format("{} {}: {} is not a directory", what, directory.string(), existing.string()));
  else if (access(existing.c_str(), W_OK | X_OK) != 0)
    problems.push_back(fmt::format("{} {}: {} is not writable", what, directory.string(),
                                   existing == directory ? std::string("it") : existing.string()));
}

}  // namespace

const fax::FaxSettings* fax_settings(const ConnectorSpec* spec) {
  auto* fax = dynamic_cast<const FaxSpec*>(spec);
  return fax ? &fax->settings : nullptr;
}

KindDefinition fax_kind() {
  return {"fax", read, "fax"};  // every fax costs: its senders need the fax permission
}

namespace fax {

std::vector<std::string> check_fax_resources(const FaxSettings& settings) {
  std::vector<std::string> problems;
  std::filesystem::path program =
      settings.render.program.empty() ? default_render_program() : settings.render.program;
  if (access(program.c_str(), X_OK) != 0)
    problems.push_back(fmt::format("render_helper {}: not an executable file (bridgehead-render)",
                                   program.string()));
  if (getpwnam(settings.render.limits.user.c_str()) == nullptr)
    problems.push_back(
        fmt::format("render_user \"{}\": no such user", printable(settings.render.limits.user)));
  if (filesystem_confinement(render_confinement(settings.render.limits)) ==
      FilesystemConfinement::refused)
    problems.push_back("render helper: " + std::string(confinement_refusal(geteuid() == 0)));
  if (!settings.cover_template.empty() && access(settings.cover_template.c_str(), R_OK) != 0)
    problems.push_back(
        fmt::format("cover_template {}: cannot be read", settings.cover_template.string()));
  if (settings.backend == Backend::spool)
    for (const char* folder : {"outgoing", "results"})
      check_writable_directory(settings.spool.directory / folder,
                               std::string("spool_directory's ") + folder, problems);
  check_writable_directory(settings.work_directory, "work_directory", problems);
  if (settings.backend == Backend::hylafax && !settings.hylafax.password_file.empty())
    if (auto password = read_secret_file(settings.hylafax.password_file, "hylafax_password_file",
                                         kMaxPasswordBytes);
        !password)
      problems.push_back(password.error().message);
  if (settings.backend == Backend::hylafax && !settings.hylafax.admin_password_file.empty())
    if (auto password = read_secret_file(settings.hylafax.admin_password_file,
                                         "hylafax_admin_password_file", kMaxPasswordBytes);
        !password)
      problems.push_back(password.error().message);
  return problems;
}

}  // namespace fax
}  // namespace bh::connectors
