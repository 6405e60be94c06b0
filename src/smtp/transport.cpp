#include "smtp/transport.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "util/log.hpp"

namespace bh::smtp {
namespace asio = boost::asio;
namespace {
constexpr auto kGoodbyeGrace = std::chrono::seconds(10);
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

Transport::Transport(Socket socket, Clock::time_point deadline)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), deadline_(deadline) {}

std::shared_ptr<Transport> Transport::create(Socket socket, Clock::time_point deadline) {
  std::shared_ptr<Transport> transport(new Transport(std::move(socket), deadline));
  asio::co_spawn(transport->timer_.get_executor(), watchdog(transport),
                 log::LogEscaped{"connection watchdog"});
  return transport;
}

Transport::~Transport() = default;

asio::awaitable<void> Transport::watchdog(std::shared_ptr<Transport> self) {
  // Holds only a weak reference while waiting, so an abandoned transport
  // is freed; close() cancels the timer and ends the loop.
  std::weak_ptr<Transport> weak = self;
  self.reset();
  while (true) {
    auto transport = weak.lock();
    if (!transport || transport->closed_) co_return;
    transport->timer_.expires_at(transport->deadline_);
    auto& timer = transport->timer_;
    transport.reset();
    co_await timer.async_wait(use_tuple);  // woken by expiry or cancel alike
    transport = weak.lock();
    if (!transport || transport->closed_) co_return;
    if (Clock::now() < transport->deadline_) continue;
    boost::system::error_code ignored;
    if (transport->timed_out_) {
      transport->lowest().close(ignored);
      co_return;
    }
    transport->timed_out_ = true;
    transport->lowest().cancel(ignored);
    transport->deadline_ = Clock::now() + kGoodbyeGrace;
  }
}

ssl_st* Transport::ssl_handle() {
  return tls_ ? tls_->native_handle() : nullptr;
}

asio::awaitable<std::pair<boost::system::error_code, std::size_t>> Transport::read_some(
    asio::mutable_buffer buffer) {
  // g++ 12 miscompiles co_await inside ?: and conditions: plain statements only.
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buffer, use_tuple);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await socket_.async_read_some(buffer, use_tuple);
  co_return std::pair{ec, n};
}

asio::awaitable<boost::system::error_code> Transport::write(asio::const_buffer buffer) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buffer, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, buffer, use_tuple);
  co_return ec;
}

asio::awaitable<boost::system::error_code> Transport::handshake(
    asio::ssl::context& context, asio::ssl::stream_base::handshake_type type,
    const std::string& server_name) {
  tls_ = std::make_unique<asio::ssl::stream<Socket>>(std::move(socket_), context);
  if (!server_name.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
  auto [ec] = co_await tls_->async_handshake(type, use_tuple);
  co_return ec;
}

void Transport::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  lowest().shutdown(Socket::shutdown_both, ignored);
  lowest().close(ignored);
}

}  // namespace bh::smtp
