#include "tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/ssl.hpp>

#include "tls/openssl_error.hpp"

namespace bh::tls {
namespace {

// Accept any client chain; SSL_get_verify_result() keeps the outcome.
int record_only(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const ServerTlsSettings& settings) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, settings.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, settings.certificate.c_str()) != 1)
    return Error{"tls certificate " + settings.certificate + ": " + openssl_error()};
  if (SSL_CTX_use_PrivateKey_file(ctx, settings.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return Error{"tls private key " + settings.private_key + ": " + openssl_error()};
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Error{"tls private key does not match the certificate: " + openssl_error()};
  static const unsigned char kSessionContext[] = "bridgehead-smtp";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (settings.request_client_certificate) {
    if (!settings.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, settings.client_ca_file.c_str(), nullptr) != 1)
        return Error{"tls client CA file " + settings.client_ca_file + ": " + openssl_error()};
      // Tell clients which issuers we trust so they pick the right certificate.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.client_ca_file.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, record_only);
    SSL_CTX_set_verify_depth(ctx, 10);
  }
  return context;
}

}  // namespace bh::tls
