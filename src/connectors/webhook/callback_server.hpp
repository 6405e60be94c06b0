// The small HTTP/1.1 server the foreign system calls back on (POST
// /callback): it reads bounded requests and hands each to a handler
// (callback_handler.hpp), on the connector's event loop. Beast stays in
// callback_server.cpp.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/webhook/callback_handler.hpp"
#include "util/result.hpp"

namespace bh::connectors::webhook {

class CallbackServer {
 public:
  using Handler = std::function<CallbackAnswer(const CallbackRequest&)>;
  // Binds host:port now, so a port in use stops the gateway's start.
  static Result<std::unique_ptr<CallbackServer>> open(boost::asio::io_context& io,
                                                      const std::string& host, std::uint16_t port,
                                                      std::string connector, Handler handler);
  ~CallbackServer();
  // Starts accepting (from any thread: posted to io).
  void start();
  // On the io_context's thread: closes the listener and every connection.
  void stop();

 private:
  struct Impl;
  explicit CallbackServer(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace bh::connectors::webhook
