#include "server/config.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "server/config_reader.hpp"

namespace bh {
using namespace config_detail;
namespace {

constexpr std::string_view kQuickstart = R"(
[server]
hostname = "localhost"

[[listener]]
address = "127.0.0.1:2525"

[tls]
certificate = "var/tls/cert.pem"
private_key = "var/tls/key.pem"
generate_self_signed = true
request_client_certificate = true

[queue]
directory = "var/spool"

[directory]
database = "var/bridgehead.db"

[[route]]
domains = ["example.test"]
connector = "local-files"

[[connector]]
name = "local-files"
type = "file"
directory = "var/mailout"
)";

void read_limits(TableReader& r, Limits& l) {
  constexpr std::int64_t kBig = std::int64_t{1} << 40;
  r.number("command_line", l.command_line, 512, 65536);
  r.number("text_line", l.text_line, 1000, 65536);
  r.number("header_bytes", l.header_bytes, 1024, kBig);
  r.number("message_size", l.message_size, 1024, kBig);
  r.number("recipients", l.recipients, 1, 100000);
  r.number("errors", l.errors, 1, 1000);
  r.number("idle_timeout", l.idle_timeout_seconds, 1, 86400);
  r.number("session_timeout", l.session_timeout_seconds, 1, 86400 * 7);
  r.number("connections", l.connections, 1, 10000000);
  r.number("connections_per_ip", l.connections_per_ip, 1, 10000000);
  r.number("content_memory", l.content_memory, 1 << 20, kBig);
}

void read_tls(TableReader& r, TlsConfig& tls) {
  r.text("certificate", tls.certificate, true);
  r.text("private_key", tls.private_key, true);
  r.boolean("generate_self_signed", tls.generate_self_signed);
  r.boolean("request_client_certificate", tls.request_client_certificate);
  r.text("client_ca_file", tls.client_ca_file);
  r.text("min_version", tls.min_version);
  if (tls.min_version != "TLSv1.2" && tls.min_version != "TLSv1.3")
    r.error(*r.node("min_version"), "min_version", "must be \"TLSv1.2\" or \"TLSv1.3\"");
}

void check_references(Config& config, std::vector<std::string>& errors) {
  if (config.listeners.empty())
    errors.push_back(
        fmt::format("{}: listener: at least one [[listener]] is required", config.source));
  for (const auto& l : config.listeners)
    if ((l.starttls || l.require_tls) && !config.tls)
      errors.push_back(
          fmt::format("{}: listener {}: starttls needs a [tls] table", config.source, l.address));
  // A connector that matches by certificate can never match without these.
  for (const auto& c : config.trust.connectors) {
    if (c.certificate_names.empty()) continue;
    if (!config.tls || !config.tls->request_client_certificate)
      errors.push_back(
          fmt::format("{}: inbound_connector {}: matches by certificate, so [tls] "
                      "request_client_certificate must be true",
                      config.source, c.name));
    else if (config.tls->client_ca_file.empty() && c.ca_file.empty())
      errors.push_back(
          fmt::format("{}: inbound_connector {}: matches by certificate, so [tls] "
                      "client_ca_file (or the connector's ca_file) must name the CA "
                      "bundle to verify it against",
                      config.source, c.name));
  }
}

}  // namespace

Result<Config> parse_config(const std::string& text, const std::string& source) {
  Config config;
  config.source = source;
  std::vector<std::string> errors;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}: syntax: {}", source, e.source().begin.line, e.description())};
  }
  {
    TableReader top(root, "", source, errors);
    one_table(top, source, errors, "server", [&](TableReader& r) {
      r.text("hostname", config.hostname);
      r.number("threads", config.threads, 0, 256);
      r.text("log_format", config.log_format);
      if (config.log_format != "text" && config.log_format != "json")
        r.error(*r.node("log_format"), "log_format", "must be \"text\" or \"json\"");
      r.text("log_level", config.log_level);
      r.boolean("strip_nul", config.strip_nul);
      if (!std::set<std::string>{"debug", "info", "warn", "error"}.contains(config.log_level))
        r.error(*r.node("log_level"), "log_level", "must be debug, info, warn or error");
    });
    each_table(top, source, errors, "listener", [&](TableReader& r) {
      ListenerConfig listener;
      r.text("address", listener.address, true);
      if (!listener.address.empty() &&
          !parse_host_and_port(listener.address, listener.host, listener.port, 0))
        r.error(*r.node("address"), "address", "must be IP:PORT, e.g. \"127.0.0.1:2525\"");
      r.boolean("starttls", listener.starttls);
      r.boolean("require_tls", listener.require_tls);
      config.listeners.push_back(std::move(listener));
    });
    one_table(top, source, errors, "tls", [&](TableReader& r) {
      config.tls.emplace();
      read_tls(r, *config.tls);
    });
    one_table(top, source, errors, "queue", [&](TableReader& r) {
      r.text("directory", config.queue.directory);
      r.number("active_limit", config.queue.active_limit, 1, 1000000);
      r.number("active_bytes_limit", config.queue.active_bytes_limit, 1 << 20,
               std::int64_t{1} << 40);
      r.number("retry_delay", config.queue.retry_delay, 1, 86400);
      r.number("max_retry_delay", config.queue.max_retry_delay, 1, 86400 * 7);
      r.number("max_queue_lifetime", config.queue.max_lifetime, 1, 86400 * 365);
      r.number("delay_warning_time", config.queue.delay_warning, 1, 86400 * 365);
    });
    one_table(top, source, errors, "limits",
              [&](TableReader& r) { read_limits(r, config.limits); });
    one_table(top, source, errors, "dns", [&](TableReader& r) { read_dns(r, config.dns); });
    one_table(top, source, errors, "directory",
              [&](TableReader& r) { r.text("database", config.directory_database); });
    one_table(top, source, errors, "access",
              [&](TableReader& r) { read_access(r, config.trust.access); });
    // Tenants first: connectors refer to them.
    each_table(top, source, errors, "tenant",
               [&](TableReader& r) { config.trust.tenants.push_back(read_tenant(r)); });
    each_table(top, source, errors, "inbound_connector", [&](TableReader& r) {
      config.trust.connectors.push_back(read_inbound_connector(r, config.trust.tenants));
    });
    each_table(top, source, errors, "connector", [&](TableReader& r) {
      config.connectors.push_back(read_connector(r, config.hostname));
    });
    for (auto& c : config.connectors) c.smtp.dns = config.dns;
    each_table(top, source, errors, "route", [&](TableReader& r) {
      Route route;
      r.strings("domains", route.domains, true);
      for (auto& domain : route.domains) {
        for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (domain.empty() || domain.find('@') != std::string::npos ||
            domain.find(' ') != std::string::npos)
          r.error(*r.node("domains"), "domains", "\"" + domain + "\" is not a domain");
      }
      r.text("connector", route.connector, true);
      r.text("service", route.service);
      route.service = to_lower_ascii(route.service);
      bool defined = std::any_of(config.connectors.begin(), config.connectors.end(),
                                 [&](const auto& c) { return c.name == route.connector; });
      if (!route.connector.empty() && !defined)
        r.error(*r.node("connector"), "connector",
                "connector \"" + route.connector + "\" is not defined");
      config.routes.push_back(std::move(route));
    });
  }
  if (errors.empty()) check_references(config, errors);
  if (errors.empty()) check_trust(config.trust, source, errors);
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "\n") + e;
    return Error{joined};
  }
  return config;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

Config quickstart_config() {
  auto config = parse_config(std::string(kQuickstart), "<quickstart>");
  return std::move(config.value());
}

}  // namespace bh
