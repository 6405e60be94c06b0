// Outbound TLS policies, named as Exchange Online administrators know them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tls/identity.hpp"
#include "tls/name_match.hpp"  // sni_name
#include "util/result.hpp"

struct x509_st;

namespace boost::asio::ssl {
class context;
}

namespace bh::tls {

enum class ClientPolicy {
  none,           // never STARTTLS
  opportunistic,  // STARTTLS when offered, no certificate check
  encrypt,        // EncryptionOnly: TLS required, no certificate check
  verify,         // CertificateValidation: chain checked against the CA bundle
  domain,         // DomainValidation: chain plus name match
};

std::optional<ClientPolicy> client_policy_from(std::string_view name);
std::string_view client_policy_name(ClientPolicy policy);
inline bool requires_tls(ClientPolicy p) {
  return p == ClientPolicy::encrypt || p == ClientPolicy::verify || p == ClientPolicy::domain;
}

struct ClientTlsSettings {
  ClientPolicy policy = ClientPolicy::opportunistic;
  std::string ca_file;             // empty: the system's trust store
  std::string client_certificate;  // presented when set (Exchange Online inbound connectors)
  std::string client_key;
};

Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(
    const ClientTlsSettings& settings);

// After the handshake: does the peer satisfy the policy? expected_name is
// the configured TLS domain (leading wildcard allowed) or the host name.
// Returns the reason when it does not.
std::optional<std::string> policy_violation(ClientPolicy policy, const PeerIdentity& peer,
                                            std::string_view expected_name);

// DomainValidation's name check, through OpenSSL, in one direction: the
// certificate's names (patterns) against the reference name.
// - an IP literal (IPv6 with or without brackets): an iPAddress SAN must
//   equal it (X509_check_ip_asc); DNS names and the CN do not count;
// - a name: X509_check_host, DNS SANs when the certificate has any, the CN
//   only when it has none; a certificate wildcard stands for exactly one
//   whole label, and needs two labels after it ("*.com" matches nothing);
// - a wildcard "*.example.com" (a tls_domain): any direct child of
//   example.com, or the certificate's own "*.example.com"; not example.com
//   itself, not a.b.example.com. "*.com" is refused.
// Returns the reason when the certificate does not carry the name.
std::optional<std::string> name_mismatch(x509_st* certificate, std::string_view reference);

}  // namespace bh::tls
