#include "m365/certificate_names.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "connectors/smtp/smtp_kind.hpp"
#include "server/config.hpp"
#include "tls/identity.hpp"
#include "tls/openssl_error.hpp"
#include "util/printable.hpp"

namespace bh::m365 {

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
  tls::PeerIdentity identity = tls::describe_certificate(certificate.get());
  names.common_name = std::move(identity.common_name);
  names.dns_names = std::move(identity.dns_names);
  const X509_NAME* subject = X509_get_subject_name(certificate.get());
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
