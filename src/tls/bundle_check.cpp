#include "tls/bundle_check.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

namespace bh::tls {

bool bundle_has_common_name(const std::string& bundle_path, const std::string& common_name) {
  std::FILE* file = std::fopen(bundle_path.c_str(), "r");
  if (file == nullptr) return false;
  bool found = false;
  while (!found) {
    X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
    if (certificate == nullptr) break;
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, cn,
                                  sizeof cn) > 0)
      found = common_name == cn;
    X509_free(certificate);
  }
  std::fclose(file);
  return found;
}

}  // namespace bh::tls
