// A TCP connection that may switch to TLS, with a deadline enforced by a
// watchdog coroutine: when it passes, pending I/O is cancelled (the owner
// sees timed_out() and may still say goodbye); after a short grace period
// the socket is closed. Shared by the server session and the client.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace bh::smtp {

class Transport : public std::enable_shared_from_this<Transport> {
 public:
  using Clock = std::chrono::steady_clock;
  using Socket = boost::asio::ip::tcp::socket;

  static std::shared_ptr<Transport> create(Socket socket, Clock::time_point deadline);
  ~Transport();

  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  bool timed_out() const { return timed_out_; }
  bool tls_active() const { return tls_ != nullptr; }
  ssl_st* ssl_handle();
  Socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buffer);
  boost::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer buffer);
  // server_name: SNI for clients, empty for servers.
  boost::asio::awaitable<boost::system::error_code> handshake(
      boost::asio::ssl::context& context, boost::asio::ssl::stream_base::handshake_type type,
      const std::string& server_name);
  void close();

 private:
  Transport(Socket socket, Clock::time_point deadline);
  static boost::asio::awaitable<void> watchdog(std::shared_ptr<Transport> self);

  Socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<Socket>> tls_;
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace bh::smtp
