#include "tls/self_signed.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bh::tls {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(std::FILE* p) const { std::fclose(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Deleter>;

bool add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

}  // namespace

Result<bool> ensure_self_signed(const std::string& certificate_path, const std::string& key_path,
                                const std::string& hostname) {
  namespace fs = std::filesystem;
  if (fs::exists(certificate_path) && fs::exists(key_path)) return false;
  std::error_code ec;
  for (const auto& path : {fs::path(certificate_path), fs::path(key_path)})
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);

  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Error{"cannot generate a P-256 key"};
  Owned<X509> certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7F;
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(certificate.get(), key.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  if (!add_extension(certificate.get(), NID_subject_alt_name, "DNS:" + hostname) ||
      !add_extension(certificate.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(certificate.get(), NID_ext_key_usage, "serverAuth,clientAuth"))
    return Error{"cannot add certificate extensions"};
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0)
    return Error{"cannot sign the self-signed certificate"};

  mode_t old_mask = umask(077);
  Owned<std::FILE> key_file(std::fopen(key_path.c_str(), "w"));
  umask(old_mask);
  if (!key_file) return system_error("create " + key_path, errno);
  if (PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Error{"cannot write " + key_path};
  Owned<std::FILE> certificate_file(std::fopen(certificate_path.c_str(), "w"));
  if (!certificate_file) return system_error("create " + certificate_path, errno);
  if (PEM_write_X509(certificate_file.get(), certificate.get()) != 1)
    return Error{"cannot write " + certificate_path};
  return true;
}

}  // namespace bh::tls
