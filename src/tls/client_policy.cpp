#include "tls/client_policy.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ssl/context.hpp>

#include <fmt/format.h>

#include "tls/name_match.hpp"
#include "tls/openssl_error.hpp"

namespace bh::tls {

std::optional<ClientPolicy> client_policy_from(std::string_view name) {
  for (auto policy : {ClientPolicy::none, ClientPolicy::opportunistic, ClientPolicy::encrypt,
                      ClientPolicy::verify, ClientPolicy::domain})
    if (client_policy_name(policy) == name) return policy;
  return std::nullopt;
}

std::string_view client_policy_name(ClientPolicy policy) {
  switch (policy) {
    case ClientPolicy::none:
      return "none";
    case ClientPolicy::opportunistic:
      return "opportunistic";
    case ClientPolicy::encrypt:
      return "encrypt";
    case ClientPolicy::verify:
      return "verify";
    case ClientPolicy::domain:
      return "domain";
  }
  return "?";
}

Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(
    const ClientTlsSettings& settings) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // The chain is always checked, never enforced during the handshake: the
  // policy decides afterwards, so the log can say exactly what was wrong.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (!settings.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, settings.ca_file.c_str(), nullptr) != 1)
      return Error{"tls ca_file " + settings.ca_file + ": " + openssl_error()};
  } else {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  if (!settings.client_certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.client_certificate.c_str()) != 1)
      return Error{"tls client certificate " + settings.client_certificate + ": " +
                   openssl_error()};
    if (SSL_CTX_use_PrivateKey_file(ctx, settings.client_key.c_str(), SSL_FILETYPE_PEM) != 1)
      return Error{"tls client key " + settings.client_key + ": " + openssl_error()};
    if (SSL_CTX_check_private_key(ctx) != 1)
      return Error{"tls client key does not match the certificate: " + openssl_error()};
  }
  return context;
}

std::optional<std::string> name_mismatch(x509_st* certificate, std::string_view reference_in) {
  if (certificate == nullptr) return "no certificate";
  std::string reference(reference_in);
  if (!reference.empty() && reference.back() == '.') reference.pop_back();
  if (reference.size() > 2 && reference.front() == '[' && reference.back() == ']')
    reference = reference.substr(1, reference.size() - 2);
  if (reference.empty()) return "no name to check the certificate against";
  if (is_ip_literal(reference)) {
    if (X509_check_ip_asc(certificate, reference.c_str(), 0) == 1) return std::nullopt;
    return "no IP address SAN " + reference;
  }
  unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
  if (reference.find('*') != std::string::npos) {
    if (!valid_wildcard(reference))
      return fmt::format("{} is not a usable wildcard (only *.<domain> with at least two labels)",
                         reference);
    // A reference starting with "." stands for its subdomains; one label only.
    reference.erase(0, 1);
    flags |= X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS;
  }
  int result = X509_check_host(certificate, reference.data(), reference.size(), flags, nullptr);
  if (result == 1) return std::nullopt;
  if (result < 0) return "name check failed: " + openssl_error();
  return "no matching name";
}

std::optional<std::string> policy_violation(ClientPolicy policy, const PeerIdentity& peer,
                                            std::string_view expected_name) {
  if (policy != ClientPolicy::verify && policy != ClientPolicy::domain) return std::nullopt;
  if (!peer.presented) return "the server presented no certificate";
  if (!peer.chain_verified)
    return fmt::format("server certificate not trusted: {} (subject {}, issuer {})",
                       peer.verify_error, peer.subject, peer.issuer);
  if (policy == ClientPolicy::domain) {
    if (auto why = name_mismatch(peer.certificate.get(), expected_name)) {
      std::string names;
      for (const auto& n : peer.dns_names) names += (names.empty() ? "" : ",") + n;
      std::string ips;
      for (const auto& n : peer.ip_addresses) ips += (ips.empty() ? "" : ",") + n;
      return fmt::format(
          "server certificate does not match {}: {} (CN {}, DNS names {}, IP addresses {})",
          expected_name, *why, peer.common_name, names.empty() ? "none" : names,
          ips.empty() ? "none" : ips);
    }
  }
  return std::nullopt;
}

}  // namespace bh::tls
