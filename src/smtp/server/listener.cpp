#include "smtp/server/listener.hpp"

#include <boost/asio.hpp>
#include <boost/asio/detail/socket_option.hpp>

#include "util/log.hpp"

namespace bh::smtp {
namespace asio = boost::asio;
using asio::ip::tcp;

Result<tcp::acceptor> open_acceptor(asio::io_context& io, const tcp::endpoint& at) {
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(4096, ec);
  if (ec) {
    return Error{"listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + ": " +
                 ec.message()};
  }
  return acceptor;
}

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor,
                                  const SessionContext& context) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer backoff(executor);
  while (acceptor->is_open()) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {
      // Out of file descriptors and the like: wait a little instead of spinning.
      log::Line("accept_error").kv("reason", ec.message()).write(log::Level::warn);
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(executor, run_session(std::move(socket), context),
                   log::LogEscaped{"smtp session"});
  }
}

}  // namespace bh::smtp
