#include "connectors/webhook/webhook_connector.hpp"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include <fmt/format.h>

#include "connectors/webhook/callback_server.hpp"
#include "connectors/webhook/http_client.hpp"
#include "connectors/webhook/payload.hpp"
#include "connectors/webhook/response.hpp"
#include "connectors/webhook/signature.hpp"
#include "tls/openssl_error.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace bh::connectors::webhook {
namespace asio = boost::asio;

namespace {

// How long stop() waits for cancelled posts to wind down before it stops
// the event loop under them.
constexpr auto kStopGrace = std::chrono::seconds(5);

// The server's certificate chain is checked against ca_file (or the
// system's store) and its name against the URL's host, during the handshake.
Result<std::shared_ptr<asio::ssl::context>> make_tls(const WebhookSettings& settings) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (!settings.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, settings.ca_file.c_str(), nullptr) != 1)
      return Error{"ca_file " + settings.ca_file + ": " + tls::openssl_error()};
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Error{"the system's trust store: " + tls::openssl_error()};
  }
  return context;
}

const std::string& callback_secret_file(const WebhookSettings& settings) {
  return settings.callback_secret_file.empty() ? settings.secret_file
                                               : settings.callback_secret_file;
}

}  // namespace

std::vector<std::string> WebhookConnector::check(const WebhookSettings& settings) {
  std::vector<std::string> problems;
  if (auto secret = read_webhook_secret(settings.secret_file, "secret_file"); !secret)
    problems.push_back(secret.error().message);
  if (!settings.callback_secret_file.empty())
    if (auto secret = read_webhook_secret(settings.callback_secret_file, "callback_secret_file");
        !secret)
      problems.push_back(secret.error().message);
  if (settings.url.https)
    if (auto tls = make_tls(settings); !tls) problems.push_back(tls.error().message);
  return problems;
}

Result<std::shared_ptr<WebhookConnector>> WebhookConnector::create(
    const WebhookSettings& settings) {
  std::shared_ptr<WebhookConnector> connector(new WebhookConnector(settings));
  auto fail = [&](const std::string& message) {
    return Error{"connector " + settings.name + ": " + message};
  };
  auto secret = read_webhook_secret(settings.secret_file, "secret_file");
  if (!secret) return fail(secret.error().message);
  connector->secret_ = *secret;
  if (settings.url.https) {
    auto tls = make_tls(settings);
    if (!tls) return fail(tls.error().message);
    connector->tls_ = *tls;
  }
  if (settings.callbacks()) {
    auto callback_secret =
        settings.callback_secret_file.empty()
            ? Result<std::string>(*secret)
            : read_webhook_secret(settings.callback_secret_file, "callback_secret_file");
    if (!callback_secret) return fail(callback_secret.error().message);
    connector->callback_secret_ = *callback_secret;
    auto server = CallbackServer::open(
        connector->io_, settings.callback_host, settings.callback_port, settings.name,
        [c = connector.get()](const CallbackRequest& request) { return c->on_callback(request); });
    if (!server) return fail(server.error().message);
    connector->callbacks_ = std::move(*server);
    connector->callbacks_->start();
    log::Line("webhook_callbacks")
        .kv("connector", settings.name)
        .kv("listen", settings.callback_listen)
        .kv("secret", callback_secret_file(settings))
        .write();
  }
  connector->work_.emplace(asio::make_work_guard(connector->io_));
  connector->thread_ = std::thread([c = connector.get()] {
    c->io_.run();
    c->ran_.set_value();
  });
  return connector;
}

WebhookConnector::WebhookConnector(const WebhookSettings& settings) : settings_(settings), io_(1) {}

WebhookConnector::~WebhookConnector() {
  stop();
}

void WebhookConnector::stop() {
  if (!thread_.joinable()) return;
  std::future<void> ran = ran_.get_future();
  // Posts in flight are cancelled (their requests deferred); waiting ones
  // are deferred too; then the loop runs out of work and the thread ends.
  asio::post(io_, [this] {
    stopping_ = true;
    for (HttpPost* post : posts_) post->cancel();
    while (!waiting_.empty()) {
      Job job = std::move(waiting_.front());
      waiting_.pop_front();
      job.done(same_for_all(job.request, {Outcome::deferred, "4.3.0", "the gateway is stopping"}));
    }
    if (callbacks_) callbacks_->stop();
  });
  work_.reset();
  if (ran.wait_for(kStopGrace) != std::future_status::ready) io_.stop();
  thread_.join();
}

void WebhookConnector::deliver(DeliveryRequest request, DeliveryDone done) {
  asio::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    if (request.recipients.empty()) return done({});
    if (stopping_)
      return done(same_for_all(request, {Outcome::deferred, "4.3.0", "the gateway is stopping"}));
    waiting_.push_back({std::move(request), std::move(done)});
    pump();
  });
}

// One post per free connection, at most max_connections at once.
void WebhookConnector::pump() {
  while (!stopping_ && running_ < settings_.max_connections && !waiting_.empty()) {
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    ++running_;
    asio::co_spawn(io_, run(std::move(job)), log::LogEscaped{"webhook delivery"});
  }
}

asio::awaitable<void> WebhookConnector::run(Job job) {
  RecipientResult result;
  try {
    result = co_await attempt(job.request);
  } catch (const std::exception& error) {
    // Never leave a request without an answer: the message would wait in active/.
    log::Line("connector_error")
        .kv("connector", settings_.name)
        .kv("reason", error.what())
        .write(log::Level::error);
    result = {Outcome::deferred, "4.3.0", std::string("internal error: ") + error.what()};
  }
  --running_;
  job.done(same_for_all(job.request, result));
  pump();
}

asio::awaitable<RecipientResult> WebhookConnector::attempt(const DeliveryRequest& request) {
  const Envelope& envelope = request.envelope();
  std::string body = webhook_payload(request, settings_.include_attachments);
  if (body.size() > settings_.max_body)
    co_return RecipientResult{
        Outcome::bounced, "5.3.4",
        fmt::format("message too big for the webhook: {} bytes of JSON, max_body is {}",
                    body.size(), settings_.max_body)};
  std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Type", "application/json"},
      {std::string(kSignatureHeader), sign(secret_, unix_now(), body)},
      // The same for every try of this version of the message: the receiver
      // can tell a retry (after a timeout, say) from a new message.
      {"Idempotency-Key", fmt::format("{}-{}", envelope.queue_id, envelope.generation)},
  };
  auto deadline = std::chrono::steady_clock::now() + settings_.timeout;
  HttpPost post(io_, settings_.url, tls_.get());
  posts_.insert(&post);
  PostResult outcome;
  try {
    outcome = co_await post.run(std::move(headers), std::move(body), deadline);
  } catch (...) {
    posts_.erase(&post);
    throw;
  }
  posts_.erase(&post);
  if (auto* failure = std::get_if<PostFailure>(&outcome)) {
    RecipientResult deferred{Outcome::deferred, failure->status, failure->reason};
    deferred.remote_mta = settings_.url.host;
    deferred.diagnostic_type = "x-http";
    co_return deferred;
  }
  const auto& answer = std::get<PostAnswer>(outcome);
  // Pending needs somebody to keep it: callbacks on, and a gateway that
  // attached its pending store (otherwise a 202 counts as delivered).
  bool pending_possible = callbacks_ != nullptr && sink_.load() != nullptr;
  co_return classify_answer({answer.status, answer.reason, answer.body}, pending_possible,
                            settings_.url.host);
}

CallbackAnswer WebhookConnector::on_callback(const CallbackRequest& request) {
  return handle_callback(request, callback_secret_, unix_now(), sink_.load(), settings_.name);
}

}  // namespace bh::connectors::webhook
