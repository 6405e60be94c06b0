#pragma once

#include <memory>
#include <string>

#include "util/result.hpp"

struct x509_store_st;
struct stack_st_X509_NAME;

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
//
// With request_client_certificate the context never resumes a session (no
// tickets, no session cache): a resumed session brings back the client's
// leaf certificate without the intermediates it sent, and the verification
// result of the first handshake, so inbound connectors' own CA bundles
// could not verify it again and a changed trust store (reload) would not
// apply to it. Every connection that may present a client certificate does
// a full handshake instead.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const ServerTlsSettings& settings);

// The trust anchors for client certificates (tls.client_ca_file), read from
// disk: the store that verifies client chains and the CA names sent in the
// certificate request.
class ClientCaAnchors {
 public:
  // An empty path: nothing is trusted (no client chain verifies).
  static Result<std::shared_ptr<const ClientCaAnchors>> load(const std::string& client_ca_file);
  ~ClientCaAnchors();
  ClientCaAnchors(const ClientCaAnchors&) = delete;
  ClientCaAnchors& operator=(const ClientCaAnchors&) = delete;

 private:
  ClientCaAnchors() = default;
  friend struct ClientCaHolder;
  ::x509_store_st* store_ = nullptr;
  ::stack_st_X509_NAME* names_ = nullptr;
};

// SIGHUP: handshakes that start from now on verify client chains against
// anchors. Fails when the context was made without
// request_client_certificate (it asks for no client certificate).
Status replace_client_ca(boost::asio::ssl::context& context,
                         std::shared_ptr<const ClientCaAnchors> anchors);

}  // namespace bh::tls
