#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "smtp/server/session.hpp"
#include "util/result.hpp"

namespace bh::smtp {

// Opens a listening socket with SO_REUSEPORT, so every I/O thread can have
// its own acceptor on the same address and the kernel spreads connections.
Result<boost::asio::ip::tcp::acceptor> open_acceptor(boost::asio::io_context& io,
                                                     const boost::asio::ip::tcp::endpoint& at);

// Accepts until the acceptor is closed (on its own executor: a shutdown
// posts the close); each session is its own coroutine, and whatever escapes
// one is logged, never propagated.
boost::asio::awaitable<void> accept_loop(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor,
                                         const SessionContext& context);

}  // namespace bh::smtp
