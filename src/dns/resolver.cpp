#include "dns/resolver.hpp"

#include <unbound.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mail/address.hpp"

namespace bh::dns {
namespace asio = boost::asio;
namespace {

constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;

// A domain name in wire format (rdata is uncompressed) to text, no final dot.
std::optional<std::string> wire_name(const unsigned char* data, std::size_t length) {
  std::string name;
  std::size_t i = 0;
  while (i < length) {
    std::size_t label = data[i++];
    if (label == 0) return name;
    if (label > 63 || i + label > length) return std::nullopt;
    if (!name.empty()) name.push_back('.');
    name.append(reinterpret_cast<const char*>(data + i), label);
    i += label;
  }
  return std::nullopt;
}

struct ResultDeleter {
  void operator()(ub_result* r) const { ub_resolve_free(r); }
};
using ResultPtr = std::unique_ptr<ub_result, ResultDeleter>;

std::optional<LookupError> failure_of(int error, const ub_result* result, const std::string& name) {
  if (error != 0) return LookupError{false, name + ": " + ub_strerror(error)};
  if (result->nxdomain) return LookupError{true, name + ": domain does not exist"};
  if (result->rcode != 0)
    return LookupError{false, name + ": DNS error (rcode " + std::to_string(result->rcode) + ")"};
  return std::nullopt;
}

}  // namespace

Resolver::Resolver(const ResolverSettings& settings) : ctx_(ub_ctx_create()) {
  if (ctx_ == nullptr) {
    setup_error_ = "cannot create a DNS resolver";
    return;
  }
  int error = 0;
  if (!settings.resolv_conf.empty()) error = ub_ctx_resolvconf(ctx_, settings.resolv_conf.c_str());
  if (error == 0 && !settings.hosts_file.empty())
    error = ub_ctx_hosts(ctx_, settings.hosts_file.c_str());
  for (const std::string& line : settings.local_data) {
    if (error != 0) break;
    error = ub_ctx_set_option(ctx_, "local-data:", line.c_str());
  }
  if (error != 0) setup_error_ = std::string("DNS resolver set-up: ") + ub_strerror(error);
}

Resolver::~Resolver() {
  pool_.join();
  if (ctx_ != nullptr) ub_ctx_delete(ctx_);
}

Lookup<MxHost> Resolver::mail_hosts_blocking(const std::string& domain) {
  Lookup<MxHost> lookup;
  ub_result* raw = nullptr;
  int error = ub_resolve(ctx_, domain.c_str(), kTypeMx, kClassIn, &raw);
  ResultPtr result(raw);
  if ((lookup.error = failure_of(error, result.get(), domain))) return lookup;
  if (!result->havedata) {  // RFC 5321 5.1: no MX, the domain is its own host
    lookup.values.push_back({0, domain});
    return lookup;
  }
  for (int i = 0; result->data[i] != nullptr; ++i) {
    auto* data = reinterpret_cast<const unsigned char*>(result->data[i]);
    std::size_t length = static_cast<std::size_t>(result->len[i]);
    if (length < 3) continue;
    auto name = wire_name(data + 2, length - 2);
    if (!name) continue;
    lookup.values.push_back({static_cast<unsigned>(data[0] << 8 | data[1]), to_lower_ascii(*name)});
  }
  std::stable_sort(lookup.values.begin(), lookup.values.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  // RFC 7505: "MX 0 ." says the domain takes no mail at all.
  if (lookup.values.size() == 1 && lookup.values[0].name.empty())
    lookup.error = LookupError{true, domain + ": the domain accepts no mail (null MX)"};
  if (lookup.values.empty()) lookup.error = LookupError{false, domain + ": unusable MX records"};
  return lookup;
}

Lookup<asio::ip::address> Resolver::addresses_blocking(const std::string& host) {
  Lookup<asio::ip::address> lookup;
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);  // address literals need no lookup
  if (!ec) {
    lookup.values.push_back(literal);
    return lookup;
  }
  std::optional<LookupError> first_error;
  for (int type : {kTypeA, kTypeAaaa}) {
    ub_result* raw = nullptr;
    int error = ub_resolve(ctx_, host.c_str(), type, kClassIn, &raw);
    ResultPtr result(raw);
    if (auto failure = failure_of(error, result.get(), host)) {
      if (!first_error) first_error = failure;
      continue;
    }
    for (int i = 0; result->havedata && result->data[i] != nullptr; ++i) {
      auto* data = reinterpret_cast<const unsigned char*>(result->data[i]);
      if (type == kTypeA && result->len[i] == 4) {
        lookup.values.push_back(asio::ip::address_v4({data[0], data[1], data[2], data[3]}));
      } else if (type == kTypeAaaa && result->len[i] == 16) {
        asio::ip::address_v6::bytes_type bytes;
        std::copy(data, data + 16, bytes.begin());
        lookup.values.push_back(asio::ip::address_v6(bytes));
      }
    }
  }
  if (lookup.values.empty())
    lookup.error = first_error ? *first_error : LookupError{false, host + ": no address records"};
  return lookup;
}

asio::awaitable<Lookup<MxHost>> Resolver::mail_hosts(std::string domain) {
  auto home = co_await asio::this_coro::executor;
  if (!setup_error_.empty()) co_return Lookup<MxHost>{{}, LookupError{false, setup_error_}};
  co_await asio::post(pool_, asio::use_awaitable);
  auto lookup = mail_hosts_blocking(domain);
  co_await asio::post(home, asio::use_awaitable);
  co_return lookup;
}

asio::awaitable<Lookup<asio::ip::address>> Resolver::addresses(std::string host) {
  auto home = co_await asio::this_coro::executor;
  if (!setup_error_.empty())
    co_return Lookup<asio::ip::address>{{}, LookupError{false, setup_error_}};
  co_await asio::post(pool_, asio::use_awaitable);
  auto lookup = addresses_blocking(host);
  co_await asio::post(home, asio::use_awaitable);
  co_return lookup;
}

}  // namespace bh::dns
