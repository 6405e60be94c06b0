#include "server/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "directory/directory.hpp"
#include "directory/phone_number.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

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

[admin]
listen = "127.0.0.1:8025"
token_file = "var/admin-token"

[[route]]
domains = ["example.test"]
connector = "local-files"

[[connector]]
name = "local-files"
type = "file"
directory = "var/mailout"
)";

// [directory]: numbers written nationally, and how fresh the cache must be.
void read_directory(TableReader& r, directory::DirectorySettings& d) {
  r.text("default_region", d.default_region);
  if (!d.default_region.empty() && !directory::known_region(d.default_region))
    r.error(*r.node("default_region"), "default_region",
            "\"" + printable(d.default_region) +
                "\" is not a region libphonenumber knows (an ISO 3166 code in capitals, such as "
                "\"DE\" or \"US\")");
  r.number("refresh_interval", d.refresh_ms, 100, 3'600'000);  // milliseconds
  r.number("max_stale", d.max_stale_seconds, 1, 86'400);       // seconds
  if (d.max_stale_seconds * 1000 <= d.refresh_ms)
    r.error(*r.node(r.table().contains("max_stale") ? "max_stale" : "refresh_interval"),
            r.table().contains("max_stale") ? "max_stale" : "refresh_interval",
            fmt::format("max_stale ({} s) must be longer than refresh_interval ({} ms), or the "
                        "cache is stale between two refreshes",
                        d.max_stale_seconds, d.refresh_ms));
}

void read_limits(TableReader& r, Limits& l) {
  constexpr std::int64_t kBig = std::int64_t{1} << 40;
  r.number("command_line", l.command_line, 512, 65536);
  r.number("text_line", l.text_line, 1000, 65536);
  r.number("header_bytes", l.header_bytes, 1024, kBig);
  r.number("message_size", l.message_size, 1024, kBig);
  r.number("recipients", l.recipients, 1, 100000);
  r.number("local_part", l.local_part, 64, 1024);
  r.number("errors", l.errors, 1, 1000);
  r.number("idle_timeout", l.idle_timeout_seconds, 1, 86400);
  r.number("session_timeout", l.session_timeout_seconds, 1, 86400 * 7);
  r.number("min_data_rate", l.min_data_rate, 0, std::int64_t{1} << 30);
  r.number("connections", l.connections, 1, 10000000);
  r.number("connections_per_ip", l.connections_per_ip, 1, 10000000);
  r.number("content_buffer", l.content_buffer, 4096, 16 << 20);
  r.number("received_headers", l.received_headers, 1, 1000);
  // Obsolete since message text goes to disk as it arrives: accepted, unused.
  std::size_t obsolete_content_memory = 0;
  r.number("content_memory", obsolete_content_memory, 0, kBig);
}

void read_tls(TableReader& r, TlsConfig& tls) {
  r.path("certificate", tls.certificate, true);
  r.path("private_key", tls.private_key, true);
  r.boolean("generate_self_signed", tls.generate_self_signed);
  r.boolean("request_client_certificate", tls.request_client_certificate);
  r.path("client_ca_file", tls.client_ca_file);
  r.text("min_version", tls.min_version);
  if (tls.min_version != "TLSv1.2" && tls.min_version != "TLSv1.3")
    r.error(*r.node("min_version"), "min_version", "must be \"TLSv1.2\" or \"TLSv1.3\"");
}

std::string quote_value(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

// Why a route's domain pattern (lower case) can never match a recipient
// domain as RoutingTable::find compares them (policy/routes.cpp: the exact
// domain, or "*." and a suffix); empty when it can.
std::string pattern_problem(std::string_view pattern) {
  std::string_view domain = pattern;
  bool wildcard = domain.starts_with("*.");
  if (wildcard) domain.remove_prefix(2);
  if (domain.find('*') != std::string_view::npos)
    return "'*' is only allowed as the whole first label, as in \"*.example.com\"";
  if (domain.empty()) return "names no domain after \"*.\"";
  if (domain.front() == '[') {
    if (wildcard) return "an address literal has no subdomains";
    if (domain.size() < 3 || domain.back() != ']' ||
        !std::all_of(domain.begin() + 1, domain.end() - 1, [](unsigned char c) {
          return std::isalnum(c) || c == '.' || c == ':' || c == '-';
        }))
      return "is not an address literal";
    return "";
  }
  if (domain.back() == '.')
    return "ends with a dot (recipient domains are compared without their trailing dot)";
  if (domain.size() > 255) return "is longer than a domain can be (255 characters)";
  if (!valid_utf8(domain)) return "is not valid UTF-8";
  std::size_t label = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0) return "has an empty label";
      if (domain[i - 1] == '-') return "has a label that ends with '-'";
      if (label > 63) return "has a label longer than 63 characters";
      label = 0;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(domain[i]);
    if (c == '-' && label == 0) return "has a label that starts with '-'";
    if (c < 0x80 && !std::isalnum(c) && c != '-' && c != '_')
      return "holds a character no domain can hold";
    ++label;
  }
  return "";
}

// Listener addresses compared as the socket sees them ("[::1]" and
// "[0:0::1]" are one address).
std::string listener_key(const ListenerConfig& l) {
  unsigned char binary[sizeof(in6_addr)] = {};
  bool v4 = inet_pton(AF_INET, l.host.c_str(), binary) == 1;
  if (!v4) inet_pton(AF_INET6, l.host.c_str(), binary);
  return std::string(v4 ? "4" : "6") +
         std::string(reinterpret_cast<const char*>(binary), v4 ? 4 : 16) + ":" +
         std::to_string(l.port);
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
      if (r.table().contains("hostname") && r.node("hostname")->is_string())
        if (std::string problem = hostname_problem(config.hostname); !problem.empty())
          r.error(*r.node("hostname"), "hostname",
                  quote_value(config.hostname) + " is not a host name: it " + problem);
      r.number("threads", config.threads, 0, 256);
      r.text("log_format", config.log_format);
      if (config.log_format != "text" && config.log_format != "json")
        r.error(*r.node("log_format"), "log_format", "must be \"text\" or \"json\"");
      r.text("log_level", config.log_level);
      r.boolean("strip_nul", config.strip_nul);
      r.number("shutdown_grace", config.shutdown_grace, 0, 3600);
      r.text("postmaster", config.postmaster);
      if (!config.postmaster.empty()) {
        PathParse parsed = parse_path("<" + config.postmaster + ">", false, true);
        if (!parsed.address || parsed.postmaster)
          r.error(*r.node("postmaster"), "postmaster", "must be an address (user@domain)");
      }
      if (!std::set<std::string>{"debug", "info", "warn", "error"}.contains(config.log_level))
        r.error(*r.node("log_level"), "log_level", "must be debug, info, warn or error");
    });
    std::map<std::string, std::pair<std::size_t, std::size_t>> listener_seen;  // index, line
    each_table(top, source, errors, "listener", [&](TableReader& r) {
      ListenerConfig listener;
      r.text("address", listener.address, true);
      if (!listener.address.empty() &&
          !parse_host_and_port(listener.address, listener.host, listener.port, 0)) {
        r.error(*r.node("address"), "address", "must be IP:PORT, e.g. \"127.0.0.1:2525\"");
      } else if (!listener.address.empty()) {
        auto [first, fresh] = listener_seen.try_emplace(listener_key(listener),
                                                        config.listeners.size(), r.line("address"));
        if (!fresh)
          r.error(*r.node("address"), "address",
                  fmt::format("{} is also the address of listener[{}] (line {})",
                              quote_value(listener.address), first->second.first,
                              first->second.second));
      }
      r.boolean("starttls", listener.starttls);
      r.boolean("require_tls", listener.require_tls);
      config.listeners.push_back(std::move(listener));
    });
    one_table(top, source, errors, "tls", [&](TableReader& r) {
      config.tls.emplace();
      read_tls(r, *config.tls);
    });
    one_table(top, source, errors, "queue", [&](TableReader& r) {
      r.path("directory", config.queue.directory);
      r.number("active_limit", config.queue.active_limit, 1, 1000000);
      r.number("active_bytes_limit", config.queue.active_bytes_limit, 1 << 20,
               std::int64_t{1} << 40);
      r.number("retry_delay", config.queue.retry_delay, 1, 86400);
      r.number("max_retry_delay", config.queue.max_retry_delay, 1, 86400 * 7);
      r.number("max_queue_lifetime", config.queue.max_lifetime, 1, 86400 * 365);
      r.number("delay_warning_time", config.queue.delay_warning, 1, 86400 * 365);
      if (config.queue.retry_delay > config.queue.max_retry_delay) {
        bool given = r.table().contains("retry_delay");
        r.error(*r.node(given ? "retry_delay" : "max_retry_delay"),
                given ? "retry_delay" : "max_retry_delay",
                fmt::format("retry_delay ({}) must not be above max_retry_delay ({}{})",
                            config.queue.retry_delay, config.queue.max_retry_delay,
                            r.table().contains("max_retry_delay") ? "" : ", the default"));
      }
    });
    one_table(top, source, errors, "limits",
              [&](TableReader& r) { read_limits(r, config.limits); });
    one_table(top, source, errors, "dns", [&](TableReader& r) { read_dns(r, config.dns); });
    one_table(top, source, errors, "directory", [&](TableReader& r) {
      r.path("database", config.store.path);  // the [store] path, under its old name
      read_directory(r, config.directory);
      read_ldap_sources(r, config.directory.ldap);
    });
    one_table(top, source, errors, "store", [&](TableReader& r) {
      const toml::node* old_database = nullptr;
      if (const toml::table* d = root["directory"].as_table()) old_database = d->get("database");
      read_store(r, config.store, old_database);
    });
    one_table(top, source, errors, "stamp", [&](TableReader& r) { read_stamp(r, config.stamp); });
    one_table(top, source, errors, "trace", [&](TableReader& r) { read_trace(r, config.trace); });
    one_table(top, source, errors, "admin", [&](TableReader& r) { read_admin(r, config.admin); });
    one_table(top, source, errors, "access",
              [&](TableReader& r) { read_access(r, config.trust.access); });
    // Tenants first: connectors refer to them.
    each_table(top, source, errors, "tenant",
               [&](TableReader& r) { config.trust.tenants.push_back(read_tenant(r)); });
    each_table(top, source, errors, "inbound_connector", [&](TableReader& r) {
      config.trust.connectors.push_back(read_inbound_connector(r, config.trust.tenants));
      const InboundConnector& c = config.trust.connectors.back();
      if (const toml::node* n = r.table().get("ca_file"); n && n->is_string() && c.ca_file.empty())
        r.error(*n, "ca_file", "must not be empty: name a file");
      for (const std::string& service : c.services)
        if (!directory::valid_service_name(service))
          r.error(*r.node("services"), "services",
                  quote_value(service) +
                      " is not a service name (lower-case letters, digits, '-' and '_', 1 to 32)");
    });
    std::map<std::string, std::pair<std::size_t, std::size_t>> connector_seen;  // index, line
    each_table(top, source, errors, "connector", [&](TableReader& r) {
      config.connectors.push_back(read_connector(r, config.hostname, config.dns));
      const std::string& name = config.connectors.back().name;
      if (name.empty()) return;
      auto [first, fresh] =
          connector_seen.try_emplace(name, config.connectors.size() - 1, r.line("name"));
      if (!fresh)
        r.error(*r.node("name"), "name",
                fmt::format("{} is also the name of connector[{}] (line {}); names must be unique",
                            quote_value(name), first->second.first, first->second.second));
    });
    config.rules = read_rules(top, source, errors, config.connectors, config.trust);
    struct PatternSeen {
      std::size_t route;
      std::size_t line;
    };
    std::map<std::string, PatternSeen> pattern_seen;
    each_table(top, source, errors, "route", [&](TableReader& r) {
      Route route;
      std::size_t index = config.routes.size();
      r.strings("domains", route.domains, true);
      // The scope: mail from these tenants / through these inbound connectors.
      r.strings("from_tenants", route.from_tenants, false);
      for (auto& tenant : route.from_tenants) {
        tenant = to_lower_ascii(tenant);
        if (config.trust.tenant(tenant) == nullptr)
          r.error(*r.node("from_tenants"), "from_tenants",
                  quote_value(tenant) + " is not a [[tenant]] id");
      }
      r.strings("from_connectors", route.from_connectors, false);
      for (const auto& name : route.from_connectors)
        if (config.trust.connector(name) == nullptr)
          r.error(*r.node("from_connectors"), "from_connectors",
                  quote_value(name) + " is not an [[inbound_connector]] name");
      std::string scope;
      for (const auto& t : route.from_tenants) scope += " tenant:" + t;
      for (const auto& c : route.from_connectors) scope += " connector:" + c;
      for (auto& domain : route.domains) {
        domain = to_lower_ascii(domain);
        if (domain.empty() || domain.find(' ') != std::string::npos) {
          r.error(*r.node("domains"), "domains", quote_value(domain) + " is not a domain");
          continue;
        }
        // A full address: "fax@example.com" (the most specific address space).
        if (std::size_t at = domain.rfind('@'); at != std::string::npos) {
          PathParse parsed = parse_path("<" + domain + ">", false, true, config.limits.local_part);
          if (!parsed.address || parsed.postmaster || domain.starts_with('@') ||
              !pattern_problem(domain.substr(at + 1)).empty())
            r.error(*r.node("domains"), "domains", quote_value(domain) + " is not an address");
        } else if (domain != "*") {  // "*": every domain
          if (std::string problem = pattern_problem(domain); !problem.empty()) {
            r.error(*r.node("domains"), "domains",
                    quote_value(domain) + " can never match: it " + problem);
            continue;
          }
        }
        // The most specific address space wins, whatever the order: only the
        // same one twice is ambiguous.
        // (for the same scope: scoped routes may share an address space).
        for (const auto& [earlier, seen] : pattern_seen) {
          if (seen.route != index && earlier == domain + scope)
            r.error(*r.node("domains"), "domains",
                    fmt::format("{} is routed twice: route[{}] (line {}) has it already",
                                quote_value(domain), seen.route, seen.line));
        }
        pattern_seen.try_emplace(domain + scope, PatternSeen{index, r.line("domains")});
      }
      read_route_target(r, route, config.connectors);
      r.boolean("allow_routed_addresses", route.allow_routed_addresses);
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
