// SIGINT/SIGTERM: the listeners close, sessions waiting for a command get
// "421 4.3.2" at once, sessions receiving a message and deliveries in
// flight get shutdown_grace to finish; then the event loops stop. What is
// still in delivery then stays in active/ and is attempted again at the
// next start (nothing acknowledged is lost).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "scheduler/scheduler.hpp"
#include "smtp/server/session_tracker.hpp"

namespace bh {

class GracefulStop {
 public:
  GracefulStop(std::vector<std::unique_ptr<boost::asio::io_context>>& ios,
               smtp::SessionTracker& sessions, Scheduler& scheduler, std::chrono::seconds grace);

  // Sessions read it (SessionSettings::drain_at_ms).
  const std::atomic<std::int64_t>* drain_at() const { return &drain_at_ms_; }
  void add_acceptor(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor);
  // From the signal handler (on ios.front()).
  void begin(int signal);

 private:
  void check();

  std::vector<std::unique_ptr<boost::asio::io_context>>& ios_;
  smtp::SessionTracker& sessions_;
  Scheduler& scheduler_;
  std::chrono::seconds grace_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::atomic<std::int64_t> drain_at_ms_{0};
  std::chrono::steady_clock::time_point deadline_;
  boost::asio::steady_timer timer_;
  bool begun_ = false;
};

}  // namespace bh
