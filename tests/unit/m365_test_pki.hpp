// Certificates for the `bridgehead m365 setup` tests, made with OpenSSL in a
// temporary folder: a test CA and leaves with chosen CN and DNS names.
#pragma once

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace bh::m365::testing {

class TestPki {
 public:
  TestPki() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("bh-m365-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    ca_key_ = EVP_EC_gen("P-256");
    ca_ = make("Bridgehead m365 Test CA", {}, ca_key_, nullptr, nullptr, true);
    write("ca", ca_, ca_key_);
  }
  ~TestPki() {
    X509_free(ca_);
    EVP_PKEY_free(ca_key_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  // Writes NAME.pem and NAME.key; returns the certificate's path. Signed by
  // the test CA unless self_signed.
  std::string leaf(const std::string& name, const std::string& cn,
                   const std::vector<std::string>& dns_names, bool self_signed = false) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = self_signed ? make(cn, dns_names, key, nullptr, nullptr, false)
                          : make(cn, dns_names, key, ca_, ca_key_, false);
    std::string path = write(name, x, key);
    X509_free(x);
    EVP_PKEY_free(key);
    return path;
  }

 private:
  static X509* make(const std::string& cn, const std::vector<std::string>& dns_names, EVP_PKEY* key,
                    X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    static std::atomic<long> serial{1};
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("Bridgehead Tests"), -1, -1,
                               0);
    if (!cn.empty())
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    for (const std::string& dns : dns_names) {
      ASN1_IA5STRING* value = ASN1_IA5STRING_new();
      ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size()));
      GENERAL_NAME* entry = GENERAL_NAME_new();
      GENERAL_NAME_set0_value(entry, GEN_DNS, value);
      sk_GENERAL_NAME_push(names, entry);
    }
    if (!dns_names.empty()) X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0);
    GENERAL_NAMES_free(names);
    if (ca) {
      BASIC_CONSTRAINTS* constraints = BASIC_CONSTRAINTS_new();
      constraints->ca = 1;
      X509_add1_ext_i2d(x, NID_basic_constraints, constraints, 1, 0);
      BASIC_CONSTRAINTS_free(constraints);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
  }

  std::string write(const std::string& name, X509* x, EVP_PKEY* key) {
    std::string path = (dir_ / (name + ".pem")).string();
    FILE* file = std::fopen(path.c_str(), "w");
    PEM_write_X509(file, x);
    std::fclose(file);
    file = std::fopen((dir_ / (name + ".key")).c_str(), "w");
    PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(file);
    return path;
  }

  std::filesystem::path dir_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_ = nullptr;
};

}  // namespace bh::m365::testing
