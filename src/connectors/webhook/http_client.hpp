// One HTTP/1.1 POST on a fresh connection (TLS with the server's
// certificate and name verified, or plain HTTP for loopback tests), with
// one deadline for all of it. Beast stays inside http_client.cpp.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "connectors/webhook/webhook_settings.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bh::connectors::webhook {

inline constexpr std::size_t kMaxResponseBody = 64 * 1024;  // more is read as cut short

struct PostAnswer {
  unsigned status = 0;
  std::string reason;
  std::string body;  // at most kMaxResponseBody
};

// Nothing usable came back: status is the enhanced code for the deferral.
struct PostFailure {
  std::string status;
  std::string reason;
};

using PostResult = std::variant<PostAnswer, PostFailure>;

class HttpPost {
 public:
  // tls: required for https URLs. Both must outlive the post.
  HttpPost(boost::asio::io_context& io, const WebhookUrl& url, boost::asio::ssl::context* tls);
  ~HttpPost();
  HttpPost(const HttpPost&) = delete;
  HttpPost& operator=(const HttpPost&) = delete;

  // On the io_context's thread, once.
  boost::asio::awaitable<PostResult> run(std::vector<std::pair<std::string, std::string>> headers,
                                         std::string body,
                                         std::chrono::steady_clock::time_point deadline);
  // On the io_context's thread: ends the post as soon as it can (stop()).
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bh::connectors::webhook
