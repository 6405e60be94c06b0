// Verifies a TLS client's certificate chain against the CA bundles that
// inbound connectors name (`ca_file`), so each connector trusts only its
// own CAs: a partner's private CA can never vouch for
// "mail.protection.outlook.com" on the Microsoft 365 connector.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.hpp"

struct ssl_st;
struct x509_store_st;

namespace bh::tls {

class ChainVerifier {
 public:
  // One store per distinct bundle path, read from disk now.
  static Result<std::shared_ptr<ChainVerifier>> load(const std::vector<std::string>& bundles);

  // The bundles (paths) the peer's chain (leaf and the intermediates it
  // sent) verifies against, as a TLS client (clientAuth purpose, validity
  // dates). Needs the chain of a full handshake: see make_server_context,
  // which turns session resumption off for that reason.
  std::vector<std::string> verified_by(ssl_st* ssl) const;

  // SIGHUP: from now on verify against next's stores (read from disk by
  // next's load()). Sessions that verify later never see the old anchors.
  void replace_with(const ChainVerifier& next);

 private:
  struct Stores {
    std::map<std::string, x509_store_st*> by_path;
    Stores() = default;
    Stores(const Stores&) = delete;
    Stores& operator=(const Stores&) = delete;
    ~Stores();
  };

  ChainVerifier() = default;
  std::shared_ptr<const Stores> current() const;

  mutable std::mutex mutex_;
  std::shared_ptr<const Stores> stores_;
};

}  // namespace bh::tls
