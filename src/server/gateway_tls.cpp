// The gateway's TLS material: the listeners' server context, the CA bundles
// of the inbound connectors, the warning for a missing Exchange Online root,
// and check_resources (what check-config loads beyond the file).
#include <filesystem>

#include "server/gateway.hpp"
#include "server/gateway_internal.hpp"
#include "tls/bundle_check.hpp"
#include "tls/chain_verifier.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"
#include "util/log.hpp"

namespace bh {
namespace asio = boost::asio;

namespace {

tls::ServerTlsSettings server_tls_settings(const TlsConfig& tls) {
  return {tls.certificate, tls.private_key, tls.request_client_certificate, tls.client_ca_file,
          tls.min_version == "TLSv1.3"};
}

}  // namespace

namespace gateway_detail {

Result<std::shared_ptr<asio::ssl::context>> make_tls(const Config& config) {
  const TlsConfig& tls = *config.tls;
  if (tls.generate_self_signed) {
    auto created = tls::ensure_self_signed(tls.certificate, tls.private_key, config.hostname);
    if (!created) return created.error();
    if (*created) log::Line("tls_certificate_generated").kv("certificate", tls.certificate).write();
  }
  return tls::make_server_context(server_tls_settings(tls));
}

// The CA bundles inbound connectors name for themselves, read from disk.
Result<std::shared_ptr<tls::ChainVerifier>> connector_verifier(const Config& config) {
  std::vector<std::string> bundles;
  for (const auto& c : config.trust.connectors) bundles.push_back(c.ca_file);
  auto verifier = tls::ChainVerifier::load(bundles);
  if (verifier) return verifier;
  for (const auto& c : config.trust.connectors)  // name the connector whose bundle failed
    if (!c.ca_file.empty() && !tls::ChainVerifier::load({c.ca_file}))
      return Error{"inbound_connector " + c.name + ": " + verifier.error().message};
  return verifier;
}

constexpr const char* kExchangeRoot = "DigiCert Global Root G2";

// Exchange Online's client certificates chain to DigiCert Global Root G2: warn
// when the bundle a microsoft365 connector verifies against lacks it (its own
// ca_file, or the listener's client_ca_file when it has none).
void warn_missing_exchange_root(const Config& config) {
  if (!config.tls) return;
  bool listener_checked = false;
  for (const auto& c : config.trust.connectors) {
    if (c.kind != ConnectorKind::microsoft365) continue;
    if (!c.ca_file.empty()) {
      if (!tls::bundle_has_common_name(c.ca_file, kExchangeRoot))
        log::Line("tls_warning")
            .kv("connector", c.name)
            .kv("ca_file", c.ca_file)
            .kv("reason",
                "no DigiCert Global Root G2 in the connector's ca_file: Exchange Online client "
                "certificates will not verify (Debian: "
                "/etc/ssl/certs/DigiCert_Global_Root_G2.pem)")
            .write(log::Level::warn);
      continue;
    }
    if (listener_checked) continue;
    listener_checked = true;
    if (!tls::bundle_has_common_name(config.tls->client_ca_file, kExchangeRoot))
      log::Line("tls_warning")
          .kv("connector", c.name)
          .kv("client_ca_file", config.tls->client_ca_file)
          .kv("reason",
              "no DigiCert Global Root G2 in the bundle: Exchange Online client certificates "
              "will not verify (Debian: /etc/ssl/certs/DigiCert_Global_Root_G2.pem)")
          .write(log::Level::warn);
  }
}

}  // namespace gateway_detail

using gateway_detail::connector_verifier;

std::vector<std::string> check_resources(const Config& config) {
  std::vector<std::string> problems;
  if (config.tls) {
    const TlsConfig& tls = *config.tls;
    bool will_generate = tls.generate_self_signed && !std::filesystem::exists(tls.certificate);
    if (!will_generate) {
      auto made = tls::make_server_context(server_tls_settings(tls));
      if (!made) problems.push_back(config.source + ": tls: " + made.error().message);
    }
  }
  if (auto verifier = connector_verifier(config); !verifier)
    problems.push_back(config.source + ": " + verifier.error().message);
  for (const auto& c : config.connectors)
    if (c.spec)
      for (const std::string& problem : c.spec->check_resources())
        problems.push_back(config.source + ": " + problem);
  return problems;
}

}  // namespace bh
