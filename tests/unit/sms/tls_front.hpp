// A TLS-terminating front for the fake SMSC (fake_smsc.hpp), for the
// bind's TLS tests.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace bh::test {

// A TLS front for a FakeSmsc: accepts TLS with `context` and relays the
// plain bytes to the SMSC's port (a TLS-terminating proxy, as some
// providers run). Counts finished handshakes.
class TlsFront {
 public:
  TlsFront(std::uint16_t smsc_port, std::shared_ptr<boost::asio::ssl::context> context)
      : smsc_port_(smsc_port),
        context_(std::move(context)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsFront() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_; }

 private:
  using Tls = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using Socket = boost::asio::ip::tcp::socket;
  static constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      boost::asio::co_spawn(io_, relay(std::make_shared<Tls>(std::move(socket), *context_)),
                            boost::asio::detached);
    }
  }
  boost::asio::awaitable<void> relay(std::shared_ptr<Tls> tls) {
    auto [hec] = co_await tls->async_handshake(boost::asio::ssl::stream_base::server, use_tuple);
    if (hec) co_return;
    ++handshakes_;
    auto plain = std::make_shared<Socket>(io_);
    auto [cec] = co_await plain->async_connect(
        {boost::asio::ip::make_address("127.0.0.1"), smsc_port_}, use_tuple);
    if (cec) co_return;
    boost::asio::co_spawn(io_, to_smsc(tls, plain), boost::asio::detached);
    char chunk[4096];
    for (;;) {
      auto [ec, n] = co_await plain->async_read_some(boost::asio::buffer(chunk), use_tuple);
      if (ec) break;
      auto [wec, written] =
          co_await boost::asio::async_write(*tls, boost::asio::buffer(chunk, n), use_tuple);
      if (wec) break;
    }
    boost::system::error_code ignored;
    tls->lowest_layer().close(ignored);
  }
  boost::asio::awaitable<void> to_smsc(std::shared_ptr<Tls> tls, std::shared_ptr<Socket> plain) {
    char chunk[4096];
    for (;;) {
      auto [ec, n] = co_await tls->async_read_some(boost::asio::buffer(chunk), use_tuple);
      if (ec) break;
      auto [wec, written] =
          co_await boost::asio::async_write(*plain, boost::asio::buffer(chunk, n), use_tuple);
      if (wec) break;
    }
    boost::system::error_code ignored;
    plain->close(ignored);
  }

  std::uint16_t smsc_port_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> handshakes_{0};
};

}  // namespace bh::test
