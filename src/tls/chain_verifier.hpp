// Verifies a TLS client's certificate chain against the CA bundles that
// inbound connectors name (`ca_file`), so each connector trusts only its
// own CAs: a partner's private CA can never vouch for
// "mail.protection.outlook.com" on the Microsoft 365 connector.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/result.hpp"

struct ssl_st;
struct x509_store_st;

namespace bh::tls {

class ChainVerifier {
 public:
  // One store per distinct bundle path.
  static Result<std::shared_ptr<ChainVerifier>> load(const std::vector<std::string>& bundles);
  ~ChainVerifier();

  // The bundles (paths) the peer's chain verifies against, as a TLS client.
  std::vector<std::string> verified_by(ssl_st* ssl) const;

 private:
  ChainVerifier() = default;
  std::map<std::string, x509_store_st*> stores_;
};

}  // namespace bh::tls
