#include "connectors/sms/smpp_connect.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <fmt/format.h>

#include <algorithm>

#include "smtp/transport.hpp"
#include "tls/client_policy.hpp"
#include "tls/identity.hpp"

// Note: g++ 12 miscompiles co_await inside conditions and call arguments;
// every co_await here is a statement of its own.

namespace bh::connectors::sms {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// "Never" for the transport's watchdog once connected: far, but well within
// the range of steady_clock's nanoseconds.
constexpr auto kFar = std::chrono::hours(24 * 365);
// How often a resolve in progress looks whether the bind was stopped.
constexpr auto kResolveCheck = std::chrono::milliseconds(100);

// A resolve under connect_timeout and stop(): the watchdog cancels it.
struct Resolving {
  explicit Resolving(const asio::any_io_executor& executor) : resolver(executor), timer(executor) {}
  tcp::resolver resolver;
  asio::steady_timer timer;
  bool done = false;
  bool timed_out = false;
};

void watch_resolve(std::shared_ptr<Resolving> r, std::chrono::steady_clock::time_point deadline,
                   std::function<bool()> stopped) {
  auto now = std::chrono::steady_clock::now();
  r->timer.expires_at(std::min(deadline, now + kResolveCheck));
  r->timer.async_wait([r, deadline, stopped](const boost::system::error_code& ec) {
    if (ec || r->done) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      r->timed_out = true;
      r->resolver.cancel();
    } else if (stopped()) {
      r->resolver.cancel();
    } else {
      watch_resolve(r, deadline, stopped);
    }
  });
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> bind_tls_context(const BindSettings& bind) {
  tls::ClientTlsSettings tls_settings;
  tls_settings.policy = tls::ClientPolicy::domain;
  tls_settings.ca_file = bind.tls_ca_file;
  tls_settings.client_certificate = bind.tls_certificate;
  tls_settings.client_key = bind.tls_key;
  return tls::make_client_context(tls_settings);
}

asio::awaitable<std::string> connect_smsc(
    SmscTarget target, std::function<void(std::shared_ptr<smtp::Transport>)> attach,
    std::function<bool()> stopped) {
  const BindSettings& bind = target.bind;
  auto executor = co_await asio::this_coro::executor;
  auto resolving = std::make_shared<Resolving>(executor);
  watch_resolve(resolving, std::chrono::steady_clock::now() + target.connect_timeout, stopped);
  auto [rec, endpoints] =
      co_await resolving->resolver.async_resolve(bind.host, std::to_string(bind.port), use_tuple);
  resolving->done = true;
  resolving->timer.cancel();
  if (stopped()) co_return "stopped";
  if (resolving->timed_out) co_return "resolve " + bind.host + ": timed out";
  if (rec) co_return "resolve " + bind.host + ": " + rec.message();
  std::string last = "no address";
  std::shared_ptr<smtp::Transport> transport;
  for (const auto& entry : endpoints) {
    tcp::socket socket(executor);
    transport = smtp::Transport::create(std::move(socket),
                                        std::chrono::steady_clock::now() + target.connect_timeout);
    attach(transport);
    auto [ec] = co_await transport->lowest().async_connect(entry.endpoint(), use_tuple);
    if (stopped()) co_return "stopped";
    if (!ec) break;
    last = fmt::format("connect to {}: {}", entry.endpoint().address().to_string(),
                       transport->timed_out() ? "timed out" : ec.message());
    transport->close();
    transport.reset();
    attach(nullptr);
  }
  if (!transport) co_return last;
  boost::system::error_code ignored;
  transport->lowest().set_option(tcp::no_delay(true), ignored);
  if (bind.tls) {
    if (!target.tls) co_return "TLS: " + target.tls_problem;
    std::string expected = bind.tls_server_name.empty() ? bind.host : bind.tls_server_name;
    auto ec = co_await transport->handshake(*target.tls, asio::ssl::stream_base::client,
                                            tls::sni_name(bind.tls_server_name, bind.host));
    if (ec)
      co_return fmt::format("TLS handshake: {}",
                            transport->timed_out() ? "timed out" : ec.message());
    tls::SessionTlsInfo info = tls::describe_session(transport->ssl_handle());
    if (auto violation = tls::policy_violation(tls::ClientPolicy::domain, info.peer, expected))
      co_return "TLS: " + *violation;
  }
  transport->set_deadline(std::chrono::steady_clock::now() + kFar);
  co_return std::string();
}

}  // namespace bh::connectors::sms
