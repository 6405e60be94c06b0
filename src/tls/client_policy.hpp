// Outbound TLS policies, named as Exchange Online administrators know them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tls/identity.hpp"
#include "util/result.hpp"

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

}  // namespace bh::tls
