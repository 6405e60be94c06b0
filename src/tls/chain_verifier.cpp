#include "tls/chain_verifier.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tls/openssl_error.hpp"

namespace bh::tls {

Result<std::shared_ptr<ChainVerifier>> ChainVerifier::load(
    const std::vector<std::string>& bundles) {
  auto stores = std::make_shared<Stores>();
  for (const std::string& path : bundles) {
    if (path.empty() || stores->by_path.contains(path)) continue;
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr || X509_STORE_load_file(store, path.c_str()) != 1) {
      X509_STORE_free(store);
      return Error{"inbound connector ca_file " + path + ": " + openssl_error()};
    }
    stores->by_path[path] = store;
  }
  std::shared_ptr<ChainVerifier> verifier(new ChainVerifier());
  verifier->stores_ = std::move(stores);
  return verifier;
}

ChainVerifier::Stores::~Stores() {
  for (auto& [path, store] : by_path) X509_STORE_free(store);
}

std::shared_ptr<const ChainVerifier::Stores> ChainVerifier::current() const {
  std::lock_guard lock(mutex_);
  return stores_;
}

void ChainVerifier::replace_with(const ChainVerifier& next) {
  std::shared_ptr<const Stores> stores = next.current();
  std::lock_guard lock(mutex_);
  stores_ = std::move(stores);
}

std::vector<std::string> ChainVerifier::verified_by(ssl_st* ssl) const {
  std::vector<std::string> bundles;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return bundles;
  // Server side: the intermediates the client sent, without the leaf. A
  // resumed session would have none (they are not kept in a session).
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  std::shared_ptr<const Stores> stores = current();
  for (const auto& [path, store] : stores->by_path) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    if (ctx == nullptr) continue;
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
      X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
      if (X509_verify_cert(ctx) == 1) bundles.push_back(path);
    }
    X509_STORE_CTX_free(ctx);
  }
  return bundles;
}

}  // namespace bh::tls
