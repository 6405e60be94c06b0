// type = "webhook": the settings of README.md in this folder. The reader
// checks syntax with file and line; the secret files and the CA file are
// opened by check_resources() (check-config) and build() (the gateway).
#include "connectors/webhook/webhook_kind.hpp"

#include "connectors/webhook/webhook_connector.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"

namespace bh::connectors {
namespace {

using webhook::WebhookSettings;

class WebhookSpec final : public ConnectorSpec {
 public:
  Result<std::shared_ptr<Connector>> build() const override {
    auto connector = webhook::WebhookConnector::create(settings);
    if (!connector) return connector.error();
    return std::shared_ptr<Connector>(*connector);
  }
  std::vector<std::string> check_resources() const override {
    std::vector<std::string> problems;
    for (const std::string& problem : webhook::WebhookConnector::check(settings))
      problems.push_back("connector " + settings.name + ": " + problem);
    return problems;
  }
  WebhookSettings settings;
};

void read_callbacks(TableReader& r, WebhookSettings& s) {
  if (r.table().contains("callback_listen")) {
    r.text("callback_listen", s.callback_listen);
    const toml::node& node = *r.node("callback_listen");
    std::string host;
    std::uint16_t port = 0;
    if (node.is_string() && (!parse_host_and_port(s.callback_listen, host, port, 0) || port == 0))
      r.error(node, "callback_listen",
              "\"" + printable(s.callback_listen) + "\" is not IP:PORT (e.g. \"127.0.0.1:8025\")");
    s.callback_host = host;
    s.callback_port = port;
  }
  r.path("callback_secret_file", s.callback_secret_file);
  if (!s.callback_secret_file.empty() && s.callback_listen.empty())
    r.error(*r.node("callback_secret_file"), "callback_secret_file",
            "needs callback_listen (callbacks are off without it)");
}

std::shared_ptr<const ConnectorSpec> read(TableReader& r, const KindEnvironment& env) {
  auto spec = std::make_shared<WebhookSpec>();
  WebhookSettings& s = spec->settings;
  s.name = env.connector_name;
  r.boolean("allow_http", s.allow_http);
  r.text("url", s.url_text, true);
  if (const toml::node* node = r.node("url"); node && node->is_string())
    if (std::string problem = webhook::parse_webhook_url(s.url_text, s.allow_http, s.url);
        !problem.empty())
      r.error(*node, "url", "\"" + printable(s.url_text) + "\" " + problem);
  r.path("secret_file", s.secret_file, true);
  r.path("ca_file", s.ca_file);
  if (!s.ca_file.empty() && !s.url.https)
    r.error(*r.node("ca_file"), "ca_file", "is for https:// URLs only");
  std::int64_t seconds = s.timeout.count();
  r.number("timeout", seconds, 1, 3600);
  s.timeout = std::chrono::seconds(seconds);
  r.number("max_connections", s.max_connections, 1, 1000);
  r.boolean("include_attachments", s.include_attachments);
  r.number("max_body", s.max_body, 1024, std::int64_t{1} << 30);
  read_callbacks(r, s);
  return spec;
}

}  // namespace

const webhook::WebhookSettings* webhook_settings(const ConnectorSpec* spec) {
  auto* webhook = dynamic_cast<const WebhookSpec*>(spec);
  return webhook ? &webhook->settings : nullptr;
}

KindDefinition webhook_kind() {
  return {"webhook", read};
}

}  // namespace bh::connectors
