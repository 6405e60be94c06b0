#include "connectors/webhook/http_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include <fmt/format.h>

namespace bh::connectors::webhook {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HttpPost::Impl {
  Impl(asio::io_context& io, const WebhookUrl& url, asio::ssl::context* tls)
      : io(io), url(url), tls(tls), resolver(io) {}

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  std::string where() const { return fmt::format("{}:{}", url.host, url.port); }

  PostFailure failed(const char* step, const boost::system::error_code& ec) const {
    if (cancelled) return {"4.3.0", "the gateway is stopping"};
    if (ec == beast::error::timeout)
      return {"4.4.2", fmt::format("{}: timed out {} (timeout)", where(), step)};
    return {"4.4.2", fmt::format("{}: {}: {}", where(), step, ec.message())};
  }

  template <typename Stream>
  asio::awaitable<PostResult> exchange(Stream& stream, http::request<http::string_body>& request) {
    auto [wec, written] =
        co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return failed("sending the request", wec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxResponseBody);
    auto [rec, read] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    // Once the status line is in, it decides, even if the body was too long
    // or the connection dropped in the middle of it.
    if (rec && (!parser.is_header_done() || cancelled)) co_return failed("reading the answer", rec);
    const auto& response = parser.get();
    co_return PostAnswer{response.result_int(), std::string(response.reason()),
                         std::string(response.body().substr(0, kMaxResponseBody))};
  }

  asio::io_context& io;
  const WebhookUrl& url;
  asio::ssl::context* tls;
  tcp::resolver resolver;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  std::string verify_problem;  // the first certificate problem seen
  bool cancelled = false;
};

HttpPost::HttpPost(asio::io_context& io, const WebhookUrl& url, asio::ssl::context* tls)
    : impl_(std::make_unique<Impl>(io, url, tls)) {}

HttpPost::~HttpPost() = default;

void HttpPost::cancel() {
  Impl& d = *impl_;
  d.cancelled = true;
  d.resolver.cancel();
  if (d.plain || d.secure) d.lowest().cancel();
}

asio::awaitable<PostResult> HttpPost::run(std::vector<std::pair<std::string, std::string>> headers,
                                          std::string body, Clock::time_point deadline) {
  Impl& d = *impl_;
  const WebhookUrl& url = d.url;
  // The system's resolver (getaddrinfo: /etc/hosts, then DNS), as any HTTP client.
  std::string service = std::to_string(url.port);
  auto [rec, endpoints] =
      co_await d.resolver.async_resolve(url.host, service, asio::as_tuple(asio::use_awaitable));
  if (d.cancelled) co_return d.failed("resolving", asio::error::operation_aborted);
  if (rec)
    co_return PostFailure{"4.4.3", fmt::format("{}: cannot resolve: {}", url.host, rec.message())};
  if (Clock::now() >= deadline) co_return d.failed("resolving", beast::error::timeout);

  if (url.https) {
    d.secure.emplace(d.io, *d.tls);
    SSL* ssl = d.secure->native_handle();
    boost::system::error_code not_literal;
    asio::ip::make_address(url.host, not_literal);
    if (not_literal) SSL_set_tlsext_host_name(ssl, url.host.c_str());  // SNI takes names only
    d.secure->set_verify_mode(asio::ssl::verify_peer);
    d.secure->set_verify_callback([&d, check = asio::ssl::host_name_verification(url.host)](
                                      bool preverified, asio::ssl::verify_context& context) {
      bool ok = check(preverified, context);
      if (!ok && d.verify_problem.empty()) {
        int error = X509_STORE_CTX_get_error(context.native_handle());
        d.verify_problem = preverified || error == X509_V_OK
                               ? "the certificate does not name " + d.url.host
                               : X509_verify_cert_error_string(error);
      }
      return ok;
    });
  } else {
    d.plain.emplace(d.io);
  }
  beast::tcp_stream& tcp = d.lowest();
  tcp.expires_at(deadline);  // one deadline for connect, handshake, request and answer
  auto [cec, endpoint] = co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    PostFailure failure = d.failed("connecting", cec);
    if (failure.status == "4.4.2" && cec != beast::error::timeout) failure.status = "4.4.1";
    co_return failure;
  }
  if (d.secure) {
    auto [hec] = co_await d.secure->async_handshake(asio::ssl::stream_base::client,
                                                    asio::as_tuple(asio::use_awaitable));
    if (hec) {
      PostFailure failure = d.failed("in the TLS handshake", hec);
      if (!d.verify_problem.empty()) {
        failure = {"4.7.5", fmt::format("{}: TLS: certificate not accepted: {}", d.where(),
                                        d.verify_problem)};
      }
      co_return failure;
    }
  }

  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header());
  request.set(http::field::user_agent, "Bridgehead");
  request.set(http::field::connection, "close");
  for (auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  if (d.secure) co_return co_await d.exchange(*d.secure, request);
  co_return co_await d.exchange(*d.plain, request);
}

}  // namespace bh::connectors::webhook
