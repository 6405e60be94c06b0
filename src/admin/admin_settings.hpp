// [admin]: the admin API's listener (docs/api.md). Every limit of the admin
// listener is here, with its default.
#pragma once

#include <cstdint>
#include <string>

namespace bh::admin {

constexpr std::int64_t kMaxAdminWorkers = 64;  // [admin] workers: 1 to this

struct AdminSettings {
  bool enabled = false;  // the quickstart turns it on at 127.0.0.1:8025
  std::string listen;    // "127.0.0.1:8025", "[::1]:8025"
  std::string host;      // parsed from listen
  std::uint16_t port = 0;
  // TLS, required when listen is not a loopback address.
  std::string certificate;
  std::string private_key;
  std::int64_t max_body_bytes = 32LL << 20;  // a push of a large tenant fits
  std::int64_t max_header_bytes = 16 << 10;  // request line and header fields
  // A request (after its header started) must be read, answered and written
  // within this; a kept-alive connection may wait this long for the next.
  std::int64_t request_timeout_seconds = 60;
  std::int64_t idle_timeout_seconds = 30;
  std::int64_t max_connections = 64;
  // Threads that run the token checks and handlers (which block on the
  // store), so a long push or trace query holds up only its own request;
  // accept, TLS, reading and writing stay on the listener's one thread.
  std::int64_t workers = 4;
  // Where the quickstart writes the admin token it makes at first start.
  std::string token_file;
};

}  // namespace bh::admin
