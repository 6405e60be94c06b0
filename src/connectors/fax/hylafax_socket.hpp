// A blocking TCP connection with a timeout on every wait (poll(2)), for
// the HylaFAX client: it runs on the fax connector's worker and poll
// threads, not in an io_context.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh::connectors::fax::hylafax {

class Socket {
 public:
  Socket() = default;
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // host: a name or an address; the first address that accepts wins.
  static Result<Socket> connect(const std::string& host, std::uint16_t port,
                                std::chrono::milliseconds timeout);
  // Another connection to this one's peer address, on another port (the data connection).
  Result<Socket> connect_to_peer_port(std::uint16_t port, std::chrono::milliseconds timeout) const;

  Status send_all(std::string_view bytes, std::chrono::milliseconds timeout);
  // Some bytes (appended to out); 0 at the end of the stream. An error when
  // nothing arrives within timeout.
  Result<std::size_t> receive(std::string& out, std::chrono::milliseconds timeout);
  // No more bytes from us (the end of an upload), then close.
  void finish_sending();
  void close();

  // The peer's address in numeric form ("127.0.0.1", "::1") and family.
  const std::string& peer_address() const { return peer_address_; }
  bool peer_is_ipv4() const { return peer_.ss_family == AF_INET; }

 private:
  explicit Socket(int fd);
  Status wait(short events, std::chrono::milliseconds timeout, std::string_view what);

  int fd_ = -1;
  sockaddr_storage peer_{};
  socklen_t peer_length_ = 0;
  std::string peer_address_;
};

}  // namespace bh::connectors::fax::hylafax
