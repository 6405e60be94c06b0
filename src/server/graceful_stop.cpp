#include "server/graceful_stop.hpp"

#include <boost/asio/post.hpp>

#include "util/log.hpp"

namespace bh {
namespace asio = boost::asio;

GracefulStop::GracefulStop(std::vector<std::unique_ptr<asio::io_context>>& ios,
                           smtp::SessionTracker& sessions, Scheduler& scheduler,
                           std::chrono::seconds grace)
    : ios_(ios), sessions_(sessions), scheduler_(scheduler), grace_(grace), timer_(*ios.front()) {}

void GracefulStop::add_acceptor(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  acceptors_.push_back(std::move(acceptor));
}

void GracefulStop::begin(int signal) {
  if (begun_) {  // a second signal: stop now
    for (auto& io : ios_) io->stop();
    return;
  }
  begun_ = true;
  log::Line("stopping")
      .kv("signal", signal)
      .kv("sessions", sessions_.count())
      .kv("in_delivery", scheduler_.in_delivery())
      .kv("grace_seconds", static_cast<long long>(grace_.count()))
      .write();
  // Each acceptor is closed on its own thread.
  for (auto& acceptor : acceptors_)
    asio::post(acceptor->get_executor(), [acceptor] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
  // The sessions' clock (session.cpp's monotonic_ms) is the steady clock.
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  drain_at_ms_.store(now_ms + std::chrono::milliseconds(grace_).count() + 1);
  sessions_.wake_all();
  scheduler_.pause();
  // A little after the sessions' own cut, so their 421 4.3.2 goes out first.
  deadline_ = std::chrono::steady_clock::now() + grace_ + std::chrono::milliseconds(250);
  check();
}

void GracefulStop::check() {
  bool idle = sessions_.count() == 0 && scheduler_.in_delivery() == 0;
  if (idle || std::chrono::steady_clock::now() >= deadline_) {
    log::Line("drained")
        .kv("sessions_cut", sessions_.count())
        .kv("deliveries_cut", scheduler_.in_delivery())
        .write(idle ? log::Level::info : log::Level::warn);
    for (auto& io : ios_) io->stop();
    return;
  }
  timer_.expires_after(std::chrono::milliseconds(50));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) check();
  });
}

}  // namespace bh
