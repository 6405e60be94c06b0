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

#include "admin/http_answers.hpp"
#include "admin/worker_call.hpp"
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
// Writing the 503 of a request whose deadline passed while a worker had it.
constexpr auto kLateAnswerTimeout = std::chrono::seconds(5);
// Reading what a refused client still sends (see linger()).
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 64u << 20;

using Clock = std::chrono::steady_clock;

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  // A connection that stop() closes, unless a worker has its request (busy).
  struct Registered {
    tcp::socket* socket;
    bool busy = false;
  };

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
      if (connections.size() >= static_cast<std::size_t>(settings.max_connections)) {
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
    auto position = connections.insert(connections.end(), Registered{&lowest.socket()});
    struct Unregister {
      std::list<Registered>& connections;
      std::list<Registered>::iterator position;
      ~Unregister() {
        boost::system::error_code ignored;
        position->socket->shutdown(tcp::socket::shutdown_both, ignored);
        position->socket->close(ignored);
        connections.erase(position);
      }
    } unregister{connections, position};
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      co_await serve(stream, lowest, peer, *position);
    } else {
      lowest.expires_after(kTlsHandshakeTimeout);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      co_await serve(stream, lowest, peer, *position);
      if (stopped) co_return;  // the socket may be closed: no close_notify
      lowest.expires_after(kTlsHandshakeTimeout);
      co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    }
  }

  template <typename Stream>
  asio::awaitable<void> write(Stream& stream, const HttpResponse& answer, unsigned version,
                              bool keep_alive) {
    auto message = to_message(answer, version, keep_alive);
    co_await http::async_write(stream, message, asio::as_tuple(asio::use_awaitable));
  }

  // The job on the workers, the connection marked busy meanwhile (stop()
  // leaves its socket open, so that the answer can still be written).
  template <typename T>
  asio::awaitable<CallResult<T>> on_workers(Registered& connection, Clock::time_point deadline,
                                            std::shared_ptr<WorkerJob<T>> job) {
    connection.busy = true;
    struct Idle {
      Registered& connection;
      ~Idle() { connection.busy = false; }
    } idle{connection};
    CallResult<T> result = co_await call_on_workers(*workers, deadline, job);
    co_return result;
  }

  // Requests one after another (answers in request order); each one's
  // token check and handler run on the workers.
  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& lowest, const std::string& peer,
                              Registered& connection) {
    beast::flat_buffer buffer;
    for (std::size_t n = 0; n < kMaxRequestsPerConnection && !stopped; ++n) {
      lowest.expires_after(std::chrono::seconds(n == 0 ? settings.request_timeout_seconds
                                                       : settings.idle_timeout_seconds));
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
      parser.body_limit(static_cast<std::uint64_t>(settings.max_body_bytes));
      auto [hec, hbytes] = co_await http::async_read_header(stream, buffer, parser,
                                                            asio::as_tuple(asio::use_awaitable));
      // stop() closed the socket (or is about to): nothing more is written.
      if (stopped) co_return;
      Clock::time_point started = Clock::now();
      Clock::time_point deadline = started + std::chrono::seconds(settings.request_timeout_seconds);
      lowest.expires_at(deadline);
      if (hec) {
        if (std::optional<HttpResponse> refusal = refusal_for(hec, settings)) {
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
      } else {
        using Found = Result<std::optional<Caller>>;
        auto job = std::make_shared<WorkerJob<Found>>(WorkerJob<Found>{
            "admin token check",
            [check = authenticate, presented = std::string(*token)] { return check(presented); },
            Found(Error{"the token check failed"}),
            {}});
        CallResult<Found> checked = co_await on_workers(connection, deadline, job);
        if (stopped) co_return;
        if (checked.outcome != CallOutcome::answered) {
          early = overtaken(checked.outcome, settings);
          lowest.expires_after(kLateAnswerTimeout);
        } else if (Found& found = *checked.answer; !found) {
          log::Line("admin_token_store_error")
              .kv("reason", found.error().message)
              .write(log::Level::error);
          early = error_response(503, "unavailable", "the token store cannot be reached");
        } else if (!found->has_value()) {
          early = unauthorized("the token is unknown or revoked", true);
        } else {
          caller = **found;
        }
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
      if (stopped) co_return;
      if (ec) {
        if (std::optional<HttpResponse> refusal = refusal_for(ec, settings)) {
          log_request(peer, method, path, refusal->status, caller.token_id, started);
          co_await write(stream, *refusal, header.version(), false);
          co_await linger(lowest);
        }
        co_return;
      }
      unsigned version = parser.get().version();
      bool keep_alive = parser.get().keep_alive();
      auto request = std::make_shared<BeastRequest>(parser.release());
      auto job = std::make_shared<WorkerJob<HttpResponse>>(WorkerJob<HttpResponse>{
          "admin handler",
          [router = router, request, caller] {
            return answer_request(*router, std::move(*request), caller);
          },
          error_response(500, "internal", "internal error (logged)"),
          // Once the deadline passed, the handler's answer is logged only.
          [this, peer, method, path = std::string(path), token = caller.token_id,
           started](const HttpResponse& answer) {
            log_request(peer, method, path, answer.status, token, started, "admin_request_late");
          }});
      request.reset();
      CallResult<HttpResponse> handled = co_await on_workers(connection, deadline, job);
      HttpResponse answer;
      if (handled.outcome == CallOutcome::answered) {
        answer = std::move(*handled.answer);
      } else {
        answer = overtaken(handled.outcome, settings);
        keep_alive = false;
        lowest.expires_after(kLateAnswerTimeout);
      }
      if (stopped) keep_alive = false;  // the answer still goes out, then the connection closes
      log_request(peer, method, path, answer.status, caller.token_id, started);
      co_await write(stream, answer, version, keep_alive);
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

  void log_request(const std::string& peer, std::string_view method, std::string_view path,
                   int status, std::string_view token, Clock::time_point started,
                   const char* event = "admin_request") const {
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    log::Line(event)
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
  // I/O (accept, TLS, read, write, timeouts) on io's one thread; the token
  // checks and handlers, which block on the store, on the workers.
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  std::list<Registered> connections;        // io's thread only, as stopped
  bool stopped = false;
  std::thread thread;
  std::optional<asio::thread_pool> workers;  // from start()
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
  if (impl->thread.joinable()) return;
  impl->workers.emplace(static_cast<std::size_t>(impl->settings.workers));
  asio::co_spawn(impl->io, impl->accept_loop(), log::LogEscaped{"admin listener"});
  impl->thread = std::thread([impl] { impl->io.run(); });
  log::Line("admin_listening")
      .kv("address", impl->settings.listen)
      .kv("tls", impl->tls != nullptr)
      .kv("workers", impl->settings.workers)
      .write();
}

void HttpServer::stop() {
  auto impl = impl_;
  if (!impl->thread.joinable()) return;
  asio::post(impl->io, [impl] {
    impl->stopped = true;
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    std::size_t busy = 0;
    for (Impl::Registered& connection : impl->connections) {
      if (connection.busy)
        ++busy;  // its answer is written when the worker is done, then it closes
      else
        connection.socket->close(ignored);
    }
    log::Line("admin_stopping").kv("requests_running", busy).write();
  });
  // run() returns once the accept loop and every connection have ended:
  // closed sockets end at once, a busy one after its answer (or its
  // deadline's 503).
  impl->thread.join();
  // Handlers that outlived their request's deadline finish here; none is
  // running once stop() returns, so what they use may go away. Their
  // answers, handed back to io, are logged (admin_request_late).
  impl->workers->join();
  impl->io.restart();
  impl->io.poll();
}

}  // namespace bh::admin
