#include "connectors/fax/hylafax_socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace bh::connectors::fax::hylafax {

namespace {

Error timed_out(std::string_view what) {
  return Error{fmt::format("{}: timed out", what), std::make_error_code(std::errc::timed_out)};
}

std::string numeric_address(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST] = {};
  if (getnameinfo(address, length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "";
  return host;
}

// A non-blocking connect, waited for with poll.
Result<int> connect_address(const sockaddr* address, socklen_t length,
                            std::chrono::milliseconds timeout) {
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return system_error("socket", errno);
  if (::connect(fd, address, length) != 0 && errno != EINPROGRESS) {
    int error = errno;
    ::close(fd);
    return system_error("connect", error);
  }
  pollfd entry{fd, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    ::close(fd);
    return ready == 0 ? timed_out("connect") : system_error("poll", errno);
  }
  int error = 0;
  socklen_t size = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error != 0) {
    ::close(fd);
    return system_error("connect", error);
  }
  return fd;
}

}  // namespace

Socket::Socket(int fd) : fd_(fd) {}

Socket::~Socket() {
  close();
}

Socket::Socket(Socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      peer_(other.peer_),
      peer_length_(other.peer_length_),
      peer_address_(std::move(other.peer_address_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    peer_ = other.peer_;
    peer_length_ = other.peer_length_;
    peer_address_ = std::move(other.peer_address_);
  }
  return *this;
}

Result<Socket> Socket::connect(const std::string& host, std::uint16_t port,
                               std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return Error{fmt::format("resolve {}: {}", host, gai_strerror(rc)),
                 std::make_error_code(std::errc::host_unreachable)};
  Error last{"no address for " + host, std::make_error_code(std::errc::host_unreachable)};
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    auto fd = connect_address(candidate->ai_addr, candidate->ai_addrlen, timeout);
    if (!fd) {
      last = fd.error();
      continue;
    }
    Socket socket(*fd);
    std::memcpy(&socket.peer_, candidate->ai_addr, candidate->ai_addrlen);
    socket.peer_length_ = candidate->ai_addrlen;
    socket.peer_address_ = numeric_address(candidate->ai_addr, candidate->ai_addrlen);
    ::freeaddrinfo(found);
    return socket;
  }
  ::freeaddrinfo(found);
  last.message = fmt::format("{}:{}: {}", host, port, last.message);
  return last;
}

Result<Socket> Socket::connect_to_peer_port(std::uint16_t port,
                                            std::chrono::milliseconds timeout) const {
  sockaddr_storage address = peer_;
  if (address.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(port);
  else if (address.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(port);
  else
    return Error{"data connection: unknown address family"};
  auto fd = connect_address(reinterpret_cast<const sockaddr*>(&address), peer_length_, timeout);
  if (!fd) {
    Error error = fd.error();
    error.message =
        fmt::format("data connection to {} port {}: {}", peer_address_, port, error.message);
    return error;
  }
  Socket socket(*fd);
  socket.peer_ = address;
  socket.peer_length_ = peer_length_;
  socket.peer_address_ = peer_address_;
  return socket;
}

Status Socket::wait(short events, std::chrono::milliseconds timeout, std::string_view what) {
  pollfd entry{fd_, events, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return system_error("poll", errno);
  if (ready == 0) return timed_out(what);
  return ok_status();
}

Status Socket::send_all(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return Error{"send: not connected", std::make_error_code(std::errc::not_connected)};
  while (!bytes.empty()) {
    if (auto ready = wait(POLLOUT, timeout, "send"); !ready) return ready.error();
    ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return system_error("send", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return ok_status();
}

Result<std::size_t> Socket::receive(std::string& out, std::chrono::milliseconds timeout) {
  if (fd_ < 0)
    return Error{"receive: not connected", std::make_error_code(std::errc::not_connected)};
  char buffer[16384];
  for (;;) {
    if (auto ready = wait(POLLIN, timeout, "receive"); !ready) return ready.error();
    ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return system_error("receive", errno);
    }
    out.append(buffer, static_cast<std::size_t>(got));
    return static_cast<std::size_t>(got);
  }
}

void Socket::finish_sending() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  close();
}

void Socket::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

}  // namespace bh::connectors::fax::hylafax
