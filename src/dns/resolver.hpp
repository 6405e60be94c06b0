// MX and address lookups through libunbound. Tests (and administrators who
// need overrides) give it local data instead of the network.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver_settings.hpp"

struct ub_ctx;

namespace bh::dns {

struct MxHost {
  unsigned preference = 0;
  std::string name;
};

// permanent: the domain does not exist or says it takes no mail (null MX);
// otherwise the failure is temporary.
struct LookupError {
  bool permanent = false;
  std::string reason;
};

template <typename T>
struct Lookup {
  std::vector<T> values;
  std::optional<LookupError> error;
};

class Resolver {
 public:
  explicit Resolver(const ResolverSettings& settings);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // MX hosts by preference; a domain without MX is its own host (implicit MX).
  boost::asio::awaitable<Lookup<MxHost>> mail_hosts(std::string domain);
  // A and AAAA records.
  boost::asio::awaitable<Lookup<boost::asio::ip::address>> addresses(std::string host);

  const std::string& setup_error() const { return setup_error_; }

 private:
  Lookup<MxHost> mail_hosts_blocking(const std::string& domain);
  Lookup<boost::asio::ip::address> addresses_blocking(const std::string& host);

  ub_ctx* ctx_ = nullptr;
  std::string setup_error_;
  boost::asio::thread_pool pool_{2};  // ub_resolve blocks; it runs here
};

}  // namespace bh::dns
