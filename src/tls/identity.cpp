#include "tls/identity.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

namespace bh::tls {
namespace {

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return text;
}

std::string common_name(const X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

// subjectAltName dNSName and iPAddress entries.
void alt_names(X509* certificate, PeerIdentity& peer) {
  auto* general_names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (general_names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(general_names); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(general_names, i);
    if (entry->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = entry->d.dNSName;
      peer.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (entry->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = entry->d.iPAddress;
      int length = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {0};
      if ((length == 4 || length == 16) &&
          inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text,
                    sizeof text) != nullptr)
        peer.ip_addresses.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(general_names);
}

std::string fingerprint(const X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return {};
  std::string text;
  for (unsigned int i = 0; i < length; ++i)
    text += fmt::format("{}{:02X}", i == 0 ? "" : ":", digest[i]);
  return text;
}

}  // namespace

PeerIdentity describe_certificate(X509* certificate) {
  PeerIdentity peer;
  peer.presented = true;
  X509_up_ref(certificate);
  peer.certificate = std::shared_ptr<X509>(certificate, X509_free);
  peer.subject = name_text(X509_get_subject_name(certificate));
  peer.common_name = common_name(X509_get_subject_name(certificate));
  alt_names(certificate, peer);
  peer.issuer = name_text(X509_get_issuer_name(certificate));
  peer.sha256_fingerprint = fingerprint(certificate);
  return peer;
}

SessionTlsInfo describe_session(ssl_st* ssl) {
  SessionTlsInfo info;
  info.version = SSL_get_version(ssl);
  info.cipher = SSL_get_cipher_name(ssl);
  X509* certificate = SSL_get1_peer_certificate(ssl);
  if (certificate == nullptr) return info;
  info.peer = describe_certificate(certificate);
  X509_free(certificate);  // describe_certificate keeps its own reference
  PeerIdentity& peer = info.peer;
  long result = SSL_get_verify_result(ssl);
  peer.chain_verified = result == X509_V_OK;
  if (!peer.chain_verified) peer.verify_error = X509_verify_cert_error_string(result);
  return info;
}

}  // namespace bh::tls
