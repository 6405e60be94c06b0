// The identity a TLS peer presented, recorded for the policy layer.
#pragma once

#include <memory>
#include <string>
#include <vector>

struct ssl_st;
struct x509_st;

namespace bh::tls {

struct PeerIdentity {
  bool presented = false;  // the peer sent a certificate
  std::string subject;     // RFC 2253
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, as text
  std::string issuer;                     // RFC 2253
  std::string sha256_fingerprint;         // upper-case hex, colon separated
  bool chain_verified = false;            // against the configured CA bundle
  std::string verify_error;               // OpenSSL's reason when not verified
  // The leaf certificate itself, for name checks through OpenSSL
  // (X509_check_host / X509_check_ip_asc); null when none was presented.
  std::shared_ptr<x509_st> certificate;
};

struct SessionTlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  PeerIdentity peer;
};

SessionTlsInfo describe_session(ssl_st* ssl);
// The names and fingerprint of a certificate (presented = true; the
// verification fields stay unset). Takes its own reference.
PeerIdentity describe_certificate(x509_st* certificate);

}  // namespace bh::tls
