// The names on the certificates the gateway presents (its server certificate
// and its client certificates), read with OpenSSL for `bridgehead m365 setup`:
// Exchange Online checks these names (TlsDomain, TlsSenderCertificateName).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace bh {
struct Config;
}

namespace bh::m365 {

struct CertificateNames {
  std::string common_name;             // subject CN, "" when none
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries, as written
  bool self_signed = false;            // issuer and subject are the same name
};

// The first certificate of a PEM file (the leaf of a chain).
Result<CertificateNames> read_certificate_names(const std::string& path);

// By path, as the configuration names them: tls.certificate and every smtp
// connector's client_certificate and tenant_certificate client_certificate.
using CertificateMap = std::map<std::string, Result<CertificateNames>>;
CertificateMap read_configured_certificates(const Config& config);

}  // namespace bh::m365
