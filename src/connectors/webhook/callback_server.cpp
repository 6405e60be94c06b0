#include "connectors/webhook/callback_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include <fmt/format.h>

#include "connectors/webhook/signature.hpp"
#include "util/log.hpp"

namespace bh::connectors::webhook {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr std::size_t kMaxConnections = 64;
constexpr std::size_t kMaxRequestsPerConnection = 100;
constexpr auto kRequestTimeout = std::chrono::seconds(10);
}  // namespace

struct CallbackServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::string connector, Handler handler)
      : io(io), acceptor(io), connector(std::move(connector)), handler(std::move(handler)) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (stopped) break;
      if (ec) {
        log::Line("webhook_callback_error")
            .kv("connector", connector)
            .kv("reason", "accept: " + ec.message())
            .write(log::Level::warn);
        asio::steady_timer pause(io, std::chrono::milliseconds(100));  // e.g. out of descriptors
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (sessions.size() >= kMaxConnections) continue;  // closed as socket goes
      asio::co_spawn(io, session(std::move(socket)), log::LogEscaped{"webhook callback session"});
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    auto position = sessions.insert(sessions.end(), &stream);
    try {
      co_await serve(stream);
    } catch (const std::exception& error) {
      log::Line("webhook_callback_error")
          .kv("connector", connector)
          .kv("reason", error.what())
          .write(log::Level::error);
    }
    sessions.erase(position);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> answer(beast::tcp_stream& stream, unsigned version, bool keep_alive,
                               const CallbackAnswer& answer) {
    http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
    response.set(http::field::server, "Bridgehead");
    response.set(http::field::content_type, "application/json");
    response.keep_alive(keep_alive);
    response.body() = answer.body;
    response.prepare_payload();
    co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<void> serve(beast::tcp_stream& stream) {
    beast::flat_buffer buffer;
    boost::system::error_code ignored;
    std::string peer = stream.socket().remote_endpoint(ignored).address().to_string();
    for (std::size_t n = 0; n < kMaxRequestsPerConnection && !stopped; ++n) {
      stream.expires_after(kRequestTimeout);
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(kMaxCallbackBody);
      auto [hec, hbytes] = co_await http::async_read_header(stream, buffer, parser,
                                                            asio::as_tuple(asio::use_awaitable));
      if (hec) {
        // Bytes that are not HTTP get a 400, a declared body over the limit
        // a 413; a closed or silent connection nothing.
        bool http_error =
            hec.category() == http::make_error_code(http::error::bad_target).category() &&
            hec != http::error::end_of_stream && hec != http::error::partial_message;
        // Named, not a temporary in the co_await: g++ 12 mishandles those.
        CallbackAnswer refusal = hec == http::error::body_limit
                                     ? CallbackAnswer{413, R"({"error":"body larger than 64 KiB"})"}
                                     : CallbackAnswer{400, R"({"error":"malformed HTTP request"})"};
        if (http_error) co_await answer(stream, 11, false, refusal);
        co_return;
      }
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        co_await http::async_write(stream, go_on, asio::as_tuple(asio::use_awaitable));
      }
      auto [ec, bytes] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::body_limit) {
        CallbackAnswer too_big{413, R"({"error":"body larger than 64 KiB"})"};
        co_await answer(stream, 11, false, too_big);
        co_return;
      }
      if (ec) co_return;  // timed out or gone: nothing to answer
      const auto& request = parser.get();
      std::string_view signature = request[kSignatureHeader];
      CallbackAnswer result =
          handler({request.method_string(), request.target(), signature, request.body()});
      log::Line("webhook_callback")
          .kv("connector", connector)
          .kv("peer", peer)
          .kv("id", result.id)
          .kv("status", result.status)
          .kv("reason", result.reason)
          .write(result.status == 200 ? log::Level::info : log::Level::warn);
      bool keep_alive = request.keep_alive();
      co_await answer(stream, request.version(), keep_alive, result);
      if (!keep_alive) co_return;
    }
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  std::string connector;
  Handler handler;
  std::list<beast::tcp_stream*> sessions;
  bool stopped = false;
};

CallbackServer::CallbackServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CallbackServer::~CallbackServer() = default;

Result<std::unique_ptr<CallbackServer>> CallbackServer::open(asio::io_context& io,
                                                             const std::string& host,
                                                             std::uint16_t port,
                                                             std::string connector,
                                                             Handler handler) {
  auto impl = std::make_unique<Impl>(io, connector, std::move(handler));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{fmt::format("callback_listen {}: not an IP address", host)};
  tcp::endpoint endpoint(address, port);
  std::string where = fmt::format("callback_listen {}:{}", host, port);
  if (impl->acceptor.open(endpoint.protocol(), ec); ec) return Error{where + ": " + ec.message()};
  impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (impl->acceptor.bind(endpoint, ec); ec) return Error{where + ": " + ec.message()};
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Error{where + ": " + ec.message()};
  return std::unique_ptr<CallbackServer>(new CallbackServer(std::move(impl)));
}

void CallbackServer::start() {
  auto impl = impl_;
  asio::post(impl->io, [impl] {
    asio::co_spawn(impl->io, impl->accept_loop(), log::LogEscaped{"webhook callback listener"});
  });
}

void CallbackServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (beast::tcp_stream* stream : impl_->sessions) stream->socket().close(ignored);
}

}  // namespace bh::connectors::webhook
