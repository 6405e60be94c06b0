// Settings of a webhook connector ([[connector]] type = "webhook"; README.md
// in this folder lists them) and the syntax checks behind them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh::connectors::webhook {

struct WebhookUrl {
  bool https = true;
  std::string host;  // lower case; an IPv6 address without brackets
  std::uint16_t port = 443;
  std::string target = "/";  // path and query, as written
  // Host: header value ("host", "host:8443", "[::1]:8443").
  std::string host_header() const;
};

// Why `text` is not a webhook URL (empty when it is one): http(s)://host[:port][/path][?query],
// https unless allow_http, no user name or password, no fragment, printable ASCII only.
std::string parse_webhook_url(std::string_view text, bool allow_http, WebhookUrl& out);

inline constexpr std::size_t kMinSecretBytes = 32;
inline constexpr std::size_t kMaxSecretBytes = 4096;

// A shared secret: the file's bytes without one final line end (so that
// `openssl rand -hex 32 > FILE` works), at least kMinSecretBytes of them.
// Refused when group or others may read or write it, as ssh refuses an
// unprotected private key: whoever reads it can forge deliveries' and
// callbacks' signatures. `what` names the setting in errors.
Result<std::string> read_webhook_secret(const std::string& path, std::string_view what);

struct WebhookSettings {
  std::string name;  // the connector's
  WebhookUrl url;
  std::string url_text;
  bool allow_http = false;
  std::string secret_file;
  std::string ca_file;  // empty: the system's trust store
  std::chrono::seconds timeout{30};
  unsigned max_connections = 10;
  bool include_attachments = true;
  std::size_t max_body = 10 * 1024 * 1024;
  // Callbacks (pending results): off unless callback_listen is set.
  std::string callback_listen;
  std::string callback_host;
  std::uint16_t callback_port = 0;
  std::string callback_secret_file;  // empty: secret_file
  bool callbacks() const { return callback_port != 0; }
};

}  // namespace bh::connectors::webhook
