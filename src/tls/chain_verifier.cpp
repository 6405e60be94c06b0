#include "tls/chain_verifier.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tls/openssl_error.hpp"

namespace bh::tls {

Result<std::shared_ptr<ChainVerifier>> ChainVerifier::load(
    const std::vector<std::string>& bundles) {
  std::shared_ptr<ChainVerifier> verifier(new ChainVerifier());
  for (const std::string& path : bundles) {
    if (path.empty() || verifier->stores_.contains(path)) continue;
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr || X509_STORE_load_file(store, path.c_str()) != 1) {
      X509_STORE_free(store);
      return Error{"inbound connector ca_file " + path + ": " + openssl_error()};
    }
    verifier->stores_[path] = store;
  }
  return verifier;
}

ChainVerifier::~ChainVerifier() {
  for (auto& [path, store] : stores_) X509_STORE_free(store);
}

std::vector<std::string> ChainVerifier::verified_by(ssl_st* ssl) const {
  std::vector<std::string> bundles;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return bundles;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // server side: without the leaf
  for (const auto& [path, store] : stores_) {
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
