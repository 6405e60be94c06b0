// Delivery by HTTPS POST of one signed JSON document per request
// (README.md in this folder), with an optional callback endpoint through
// which the foreign system reports pending deliveries. Runs its own event
// loop thread, like the smtp connector.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/webhook/webhook_settings.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bh::connectors::webhook {

class CallbackServer;
class HttpPost;
struct CallbackAnswer;
struct CallbackRequest;

class WebhookConnector final : public Connector {
 public:
  static Result<std::shared_ptr<WebhookConnector>> create(const WebhookSettings& settings);
  // What create() would refuse about the files (secrets, CA), without
  // binding or starting anything: for check-config.
  static std::vector<std::string> check(const WebhookSettings& settings);
  ~WebhookConnector() override;

  void deliver(DeliveryRequest request, DeliveryDone done) override;
  void stop() override;
  void attach(PendingSink* sink) override { sink_.store(sink); }

 private:
  struct Job {
    DeliveryRequest request;
    DeliveryDone done;
  };

  explicit WebhookConnector(const WebhookSettings& settings);
  void pump();
  boost::asio::awaitable<void> run(Job job);
  boost::asio::awaitable<RecipientResult> attempt(const DeliveryRequest& request);
  CallbackAnswer on_callback(const CallbackRequest& request);

  WebhookSettings settings_;
  std::string secret_;
  std::string callback_secret_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::atomic<PendingSink*> sink_{nullptr};
  boost::asio::io_context io_;
  // Touched only on the connector's thread:
  std::deque<Job> waiting_;
  unsigned running_ = 0;
  std::set<HttpPost*> posts_;  // in flight, for stop()
  bool stopping_ = false;
  std::unique_ptr<CallbackServer> callbacks_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::promise<void> ran_;
  std::thread thread_;
};

}  // namespace bh::connectors::webhook
