#include "admin/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <list>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "tls/context.hpp"
#include "util/log.hpp"

namespace bh::admin {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxRequestsPerConnection = 1000;
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
// Reading what a refused client still sends (see linger()).
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 64u << 20;
constexpr std::string_view kRealm = "Bearer realm=\"bridgehead\"";

using Clock = std::chrono::steady_clock;

// A token in "Authorization: Bearer <token>" (the scheme in any case).
std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() || !beast::iequals(header.substr(0, scheme.size()), scheme))
    return std::nullopt;
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

HttpResponse unauthorized(std::string_view message, bool invalid_token) {
  HttpResponse response = error_response(401, "unauthorized", message);
  response.headers.emplace_back(
      "WWW-Authenticate",
      invalid_token ? std::string(kRealm) + ", error=\"invalid_token\"" : std::string(kRealm));
  return response;
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(const AdminSettings& settings, std::shared_ptr<const Router> router,
       Authenticate authenticate)
      : settings(settings),
        router(std::move(router)),
        authenticate(std::move(authenticate)),
        acceptor(io) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (stopped) break;
      if (ec) {
        log::Line("admin_accept_error").kv("reason", ec.message()).write(log::Level::warn);
        asio::steady_timer pause(io, std::chrono::milliseconds(100));  // e.g. out of descriptors
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (sockets.size() >= static_cast<std::size_t>(settings.max_connections)) {
        log::Line("admin_refused")
            .kv("reason", "too many connections")
            .kv("limit", settings.max_connections)
            .write(log::Level::warn);
        continue;  // closed as socket goes out of scope
      }
      asio::co_spawn(io, connection(std::move(socket)), log::LogEscaped{"admin connection"});
    }
  }

  asio::awaitable<void> connection(tcp::socket socket) {
    auto self = shared_from_this();
    boost::system::error_code ignored;
    std::string peer = socket.remote_endpoint(ignored).address().to_string();
    try {
      if (tls) {
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
        co_await run(stream, peer);
      } else {
        beast::tcp_stream stream(std::move(socket));
        co_await run(stream, peer);
      }
    } catch (const std::exception& error) {
      log::Line("admin_error").kv("peer", peer).kv("reason", error.what()).write(log::Level::error);
    } catch (...) {
      log::Line("admin_error")
          .kv("peer", peer)
          .kv("reason", "unknown exception")
          .write(log::Level::error);
    }
  }

  // One connection: registered so that stop() can close it, the TLS
  // handshake first when there is TLS, then its requests.
  template <typename Stream>
  asio::awaitable<void> run(Stream& stream, const std::string& peer) {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    auto position = sockets.insert(sockets.end(), &lowest.socket());
    struct Unregister {
      std::list<tcp::socket*>& sockets;
      std::list<tcp::socket*>::iterator position;
      ~Unregister() {
        boost::system::error_code ignored;
        (*position)->shutdown(tcp::socket::shutdown_both, ignored);
        (*position)->close(ignored);
        sockets.erase(position);
      }
    } unregister{sockets, position};
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      co_await serve(stream, lowest, peer);
    } else {
      lowest.expires_after(kTlsHandshakeTimeout);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      co_await serve(stream, lowest, peer);
      lowest.expires_after(kTlsHandshakeTimeout);
      co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    }
  }

  template <typename Stream>
  asio::awaitable<void> write(Stream& stream, const HttpResponse& answer, unsigned version,
                              bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
    response.set(http::field::server, "Bridgehead");
    response.set(http::field::cache_control, "no-store");
    if (!answer.body.empty() || answer.status != 204)
      response.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    response.keep_alive(keep_alive);
    response.body() = answer.body;
    response.prepare_payload();
    co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& lowest, const std::string& peer) {
    beast::flat_buffer buffer;
    for (std::size_t n = 0; n < kMaxRequestsPerConnection && !stopped; ++n) {
      lowest.expires_after(std::chrono::seconds(n == 0 ? settings.request_timeout_seconds
                                                       : settings.idle_timeout_seconds));
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
      parser.body_limit(static_cast<std::uint64_t>(settings.max_body_bytes));
      auto [hec, hbytes] = co_await http::async_read_header(stream, buffer, parser,
                                                            asio::as_tuple(asio::use_awaitable));
      Clock::time_point started = Clock::now();
      lowest.expires_after(std::chrono::seconds(settings.request_timeout_seconds));
      if (hec) {
        if (std::optional<HttpResponse> refusal = refusal_for(hec)) {
          log_request(peer, "-", "-", refusal->status, "-", started);
          co_await write(stream, *refusal, 11, false);
          co_await linger(lowest);
        }
        co_return;
      }
      const auto& header = parser.get();
      std::string method(header.method_string());
      std::string target(header.target());
      std::string_view path = std::string_view(target).substr(0, target.find('?'));

      // Authenticated before the body is read: a caller without a token
      // cannot make the server take in a large body.
      Caller caller;
      std::optional<HttpResponse> early;
      auto token = bearer_token(header[http::field::authorization]);
      if (!token) {
        early = unauthorized("an Authorization: Bearer token is required", false);
      } else if (auto found = authenticate(*token); !found) {
        log::Line("admin_token_store_error")
            .kv("reason", found.error().message)
            .write(log::Level::error);
        early = error_response(503, "unavailable", "the token store cannot be reached");
      } else if (!found->has_value()) {
        early = unauthorized("the token is unknown or revoked", true);
      } else {
        caller = **found;
      }
      if (early) {
        log_request(peer, method, path, early->status, "-", started);
        co_await write(stream, *early, header.version(), false);
        bool body_follows = parser.chunked() || parser.content_length().value_or(0) > 0;
        if (body_follows) co_await linger(lowest);
        co_return;
      }

      if (beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        co_await http::async_write(stream, go_on, asio::as_tuple(asio::use_awaitable));
      }
      auto [ec, bytes] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (std::optional<HttpResponse> refusal = refusal_for(ec)) {
          log_request(peer, method, path, refusal->status, caller.token_id, started);
          co_await write(stream, *refusal, header.version(), false);
          co_await linger(lowest);
        }
        co_return;
      }
      const auto& request = parser.get();
      HttpResponse answer = handle(request, method, target, caller);
      log_request(peer, method, path, answer.status, caller.token_id, started);
      bool keep_alive = request.keep_alive();
      co_await write(stream, answer, request.version(), keep_alive);
      if (!keep_alive) co_return;
    }
  }

  // After a refusal sent before the body was read: closing with unread bytes
  // would reset the connection, and the client could lose the answer. So
  // the sending side is shut first and what still comes is read and dropped,
  // for a bounded time and amount.
  asio::awaitable<void> linger(beast::tcp_stream& lowest) {
    boost::system::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.expires_after(kLingerTimeout);
    std::vector<char> sink(64 * 1024);
    for (std::size_t dropped = 0; dropped < kLingerBytes;) {
      auto [ec, n] =
          co_await lowest.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      dropped += n;
    }
  }

  HttpResponse handle(const http::request<http::string_body>& request, const std::string& method,
                      const std::string& target, const Caller& caller) const {
    HttpRequest call;
    call.method = method;
    std::size_t question = target.find('?');
    call.path = target.substr(0, question);
    if (!call.path.starts_with('/'))
      return error_response(400, "bad_request", "the request target must be a path");
    if (question != std::string::npos) {
      auto query = parse_query(std::string_view(target).substr(question + 1));
      if (!query)
        return error_response(400, "bad_request",
                              "the query holds a bad percent escape, a NUL or bytes that are not "
                              "UTF-8");
      call.query = std::move(*query);
    }
    call.body = request.body();
    call.content_type = std::string(request[http::field::content_type]);
    return router->handle(call, caller);
  }

  // What a client whose request could not be read is told; nullopt: it
  // closed or went silent, so nothing is sent.
  std::optional<HttpResponse> refusal_for(const boost::system::error_code& ec) const {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec.category() != http::make_error_code(http::error::bad_target).category())
      return std::nullopt;
    if (ec == http::error::body_limit)
      return error_response(
          413, "body_too_large",
          fmt::format("the body is larger than max_body_bytes ({})", settings.max_body_bytes));
    if (ec == http::error::header_limit)
      return error_response(431, "header_too_large",
                            fmt::format("the header is larger than max_header_bytes ({})",
                                        settings.max_header_bytes));
    return error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  void log_request(const std::string& peer, std::string_view method, std::string_view path,
                   int status, std::string_view token, Clock::time_point started) const {
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    log::Line("admin_request")
        .kv("peer", peer)
        .kv("method", method)
        .kv("path", path)
        .kv("status", status)
        .kv("token", token.empty() ? "-" : token)
        .kv("duration_ms", fmt::format("{}.{:03}", micros / 1000, micros % 1000))
        .write(status >= 500 ? log::Level::error : log::Level::info);
  }

  AdminSettings settings;
  std::shared_ptr<const Router> router;
  Authenticate authenticate;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  std::list<tcp::socket*> sockets;
  bool stopped = false;
  std::thread thread;
};

Result<std::unique_ptr<HttpServer>> HttpServer::open(const AdminSettings& settings,
                                                     std::shared_ptr<const Router> router,
                                                     Authenticate authenticate) {
  auto impl = std::make_shared<Impl>(settings, std::move(router), std::move(authenticate));
  std::string where = fmt::format("admin listen {}", settings.listen);
  if (!settings.certificate.empty()) {
    auto context = tls::make_server_context({settings.certificate, settings.private_key});
    if (!context) return Error{where + ": tls: " + context.error().message};
    impl->tls = *context;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(settings.host, ec);
  if (ec) return Error{where + ": not an IP address"};
  tcp::endpoint endpoint(address, settings.port);
  if (impl->acceptor.open(endpoint.protocol(), ec); ec) return Error{where + ": " + ec.message()};
  impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (impl->acceptor.bind(endpoint, ec); ec) return Error{where + ": " + ec.message()};
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Error{where + ": " + ec.message()};
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() {
  stop();
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ignored;
  return impl_->acceptor.local_endpoint(ignored).port();
}

void HttpServer::start() {
  auto impl = impl_;
  asio::co_spawn(impl->io, impl->accept_loop(), log::LogEscaped{"admin listener"});
  impl->thread = std::thread([impl] { impl->io.run(); });
  log::Line("admin_listening")
      .kv("address", impl->settings.listen)
      .kv("tls", impl->tls != nullptr)
      .write();
}

void HttpServer::stop() {
  auto impl = impl_;
  if (!impl->thread.joinable()) return;
  asio::post(impl->io, [impl] {
    impl->stopped = true;
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    for (tcp::socket* socket : impl->sockets) socket->close(ignored);
  });
  // run() returns once the accept loop and every connection have ended (a
  // handler that runs finishes first; closed sockets end the rest at once).
  impl->thread.join();
}

}  // namespace bh::admin
