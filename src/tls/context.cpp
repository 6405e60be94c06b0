#include "tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/ssl.hpp>

#include <mutex>

#include "tls/openssl_error.hpp"

namespace bh::tls {

// The client-certificate trust anchors of one server context. Each
// handshake takes the anchors in force when its ClientHello arrives (and
// holds a reference to the store), so a reload never changes a handshake
// under way and never leaves one on the old anchors.
struct ClientCaHolder {
  std::mutex mutex;
  std::shared_ptr<const ClientCaAnchors> anchors;

  std::shared_ptr<const ClientCaAnchors> current() {
    std::lock_guard lock(mutex);
    return anchors;
  }

  static int on_client_hello(SSL* ssl, int* alert, void* arg) {
    auto anchors = static_cast<ClientCaHolder*>(arg)->current();
    STACK_OF(X509_NAME)* names =
        anchors->names_ != nullptr ? SSL_dup_CA_list(anchors->names_) : sk_X509_NAME_new_null();
    if (names == nullptr || SSL_set1_verify_cert_store(ssl, anchors->store_) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    SSL_set_client_CA_list(ssl, names);  // takes ownership
    return SSL_CLIENT_HELLO_SUCCESS;
  }
};

namespace {

// Accept any client chain; SSL_get_verify_result() keeps the outcome.
int record_only(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

void free_holder(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*index*/, long /*argl*/,
                 void* /*argp*/) {
  delete static_cast<ClientCaHolder*>(ptr);
}

// The SSL_CTX ex_data slot that owns the context's ClientCaHolder.
int holder_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_holder);
  return index;
}

}  // namespace

Result<std::shared_ptr<const ClientCaAnchors>> ClientCaAnchors::load(
    const std::string& client_ca_file) {
  std::shared_ptr<ClientCaAnchors> anchors(new ClientCaAnchors());
  anchors->store_ = X509_STORE_new();
  if (anchors->store_ == nullptr) return Error{"tls client CA store: " + openssl_error()};
  if (!client_ca_file.empty()) {
    if (X509_STORE_load_file(anchors->store_, client_ca_file.c_str()) != 1)
      return Error{"tls client CA file " + client_ca_file + ": " + openssl_error()};
    // Tell clients which issuers we trust so they pick the right certificate.
    anchors->names_ = SSL_load_client_CA_file(client_ca_file.c_str());
    ERR_clear_error();
  }
  return std::shared_ptr<const ClientCaAnchors>(std::move(anchors));
}

ClientCaAnchors::~ClientCaAnchors() {
  X509_STORE_free(store_);
  sk_X509_NAME_pop_free(names_, X509_NAME_free);
}

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
    auto anchors = ClientCaAnchors::load(settings.client_ca_file);
    if (!anchors) return anchors.error();
    auto* holder = new ClientCaHolder{};
    holder->anchors = std::move(*anchors);
    if (holder_index() < 0 || SSL_CTX_set_ex_data(ctx, holder_index(), holder) != 1) {
      delete holder;
      return Error{"tls client CA store: " + openssl_error()};
    }
    SSL_CTX_set_client_hello_cb(ctx, &ClientCaHolder::on_client_hello, holder);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, record_only);
    SSL_CTX_set_verify_depth(ctx, 10);
    // No resumption (see context.hpp): no TLS 1.3 tickets, no TLS 1.2
    // tickets, no session cache.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  return context;
}

Status replace_client_ca(boost::asio::ssl::context& context,
                         std::shared_ptr<const ClientCaAnchors> anchors) {
  auto* holder =
      static_cast<ClientCaHolder*>(SSL_CTX_get_ex_data(context.native_handle(), holder_index()));
  if (holder == nullptr) return Error{"the listener's TLS context asks for no client certificate"};
  std::lock_guard lock(holder->mutex);
  holder->anchors = std::move(anchors);
  return ok_status();
}

}  // namespace bh::tls
