#include "m365/certificate_names.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "connectors/smtp/smtp_kind.hpp"
#include "server/config.hpp"
#include "tls/openssl_error.hpp"
#include "util/printable.hpp"

namespace bh::m365 {
namespace {

std::string utf8_text(const ASN1_STRING* data) {
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

Result<CertificateNames> read_certificate_names(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) {
    int errnum = errno;
    tls::openssl_error();  // clears the queue
    return Error{"\"" + printable(path) + "\": cannot open: " + std::strerror(errnum)};
  }
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!certificate)
    return Error{"\"" + printable(path) + "\": no PEM certificate: " + tls::openssl_error()};
  CertificateNames names;
  const X509_NAME* subject = X509_get_subject_name(certificate.get());
  if (int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); index >= 0)
    names.common_name = utf8_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  auto* general_names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; general_names && i < sk_GENERAL_NAME_num(general_names); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(general_names, i);
    if (entry->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = entry->d.dNSName;
    names.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                 static_cast<std::size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(general_names);
  names.self_signed = X509_NAME_cmp(subject, X509_get_issuer_name(certificate.get())) == 0;
  return names;
}

CertificateMap read_configured_certificates(const Config& config) {
  CertificateMap certificates;
  auto add = [&](const std::string& path) {
    if (!path.empty() && !certificates.contains(path))
      certificates.emplace(path, read_certificate_names(path));
  };
  if (config.tls) add(config.tls->certificate);
  for (const auto& connector : config.connectors) {
    const auto* smtp = connectors::smtp_settings(connector.spec.get());
    if (!smtp) continue;
    add(smtp->tls.client_certificate);
    for (const auto& tenant : smtp->tenant_certificates) add(tenant.certificate);
  }
  return certificates;
}

}  // namespace bh::m365
