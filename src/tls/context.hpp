#pragma once

#include <memory>
#include <string>

#include "util/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bh::tls {

struct ServerTlsSettings {
  std::string certificate;
  std::string private_key;
  bool request_client_certificate = false;
  std::string client_ca_file;  // empty: no client chain counts as verified
  bool tls13_only = false;
};

// A server context: TLS 1.2 and up, the configured certificate, and (when
// asked) a client-certificate request that never fails the handshake: the
// verification result is recorded for the policy layer instead.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const ServerTlsSettings& settings);

}  // namespace bh::tls
