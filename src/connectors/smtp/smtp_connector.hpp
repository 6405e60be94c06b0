// Delivery over SMTP: to a list of smarthosts (tried in order) or to the
// recipient domain's MX hosts, with a TLS policy, an optional client
// certificate, connection reuse and a per-destination connection limit.
// Runs its own event loop thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/smtp/smtp_settings.hpp"
#include "dns/resolver.hpp"
#include "smtp/client/client_connection.hpp"

namespace bh::connectors {

class SmtpConnector final : public Connector {
 public:
  static Result<std::shared_ptr<SmtpConnector>> create(const SmtpConnectorSettings& settings);
  ~SmtpConnector() override;

  void deliver(DeliveryRequest request, DeliveryDone done) override;
  void stop() override;

 private:
  struct Aggregate;
  struct Job {
    std::shared_ptr<Aggregate> aggregate;
    std::vector<std::size_t> positions;  // into the request's recipient list
  };
  // How connections are opened: with TLS (and which client certificate),
  // and the plain-text fallback of opportunistic TLS.
  struct Profile {
    smtp::ClientOptions tls;
    smtp::ClientOptions plaintext;
  };
  struct Destination {
    Destination() = default;
    std::string domain;  // MX mode; empty for smarthosts
    const Profile* profile = nullptr;
    std::deque<Job> queue;
    unsigned workers = 0;
    // Workers holding an open connection, waiting a little for more mail;
    // new work wakes exactly one of them.
    std::list<boost::asio::steady_timer*> lingering;
  };

  explicit SmtpConnector(const SmtpConnectorSettings& settings);
  void enqueue(const std::string& key, const std::string& domain, const std::string& tenant,
               Job job);
  void maybe_spawn(const std::string& key, Destination& destination);
  boost::asio::awaitable<void> worker(std::string key);
  boost::asio::awaitable<void> work(Destination& destination, std::optional<Job>& current);
  boost::asio::awaitable<smtp::ClientConnection::Opened> connect(const Destination& destination);
  boost::asio::awaitable<smtp::ClientConnection::Opened> try_host(const Profile& profile,
                                                                  const std::string& host,
                                                                  std::uint16_t port);
  static void complete(Job& job, std::vector<RecipientResult> results);

  SmtpConnectorSettings settings_;
  std::map<std::string, Profile> profiles_;  // by tenant; "" is everyone else
  boost::asio::io_context io_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::map<std::string, std::unique_ptr<Destination>> destinations_;
  unsigned total_workers_ = 0;  // connections of all destinations
  std::thread thread_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
};

}  // namespace bh::connectors
