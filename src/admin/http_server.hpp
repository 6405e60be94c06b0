// The admin API's HTTP/1.1 listener (Boost.Beast): accept, TLS, reading and
// writing on its own io_context and thread, never an SMTP thread; the token
// checks and handlers, which may block on the store, on a pool of
// AdminSettings::workers threads (admin/worker_call.hpp), so one slow call
// holds up only its own connection. Keep-alive (answers in request order),
// the limits of AdminSettings (header and body size, request and idle
// timeouts, connections), TLS when a certificate is configured, and bearer
// tokens checked before a handler runs. One log line per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "admin/admin_settings.hpp"
#include "admin/router.hpp"
#include "util/result.hpp"

namespace bh::admin {

// The caller a bearer token stands for; nullopt: unknown or revoked; an
// error: the token store cannot be asked (503).
using Authenticate = std::function<Result<std::optional<Caller>>(std::string_view token)>;

class HttpServer {
 public:
  // Binds the listener (and loads the TLS certificate) or says why not.
  static Result<std::unique_ptr<HttpServer>> open(const AdminSettings& settings,
                                                  std::shared_ptr<const Router> router,
                                                  Authenticate authenticate);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();  // its thread begins to accept, its workers to handle
  // Closes the listener and every connection without a running handler,
  // waits for the running handlers (their answers are written) and joins
  // every thread: no handler runs once it returns.
  void stop();
  std::uint16_t port() const;

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace bh::admin
