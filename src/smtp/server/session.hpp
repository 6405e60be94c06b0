// The SMTP server session coroutine: drives a SessionMachine with a socket,
// runs STARTTLS, commits messages to the queue, and wakes the machine when
// its deadline (SessionMachine::deadline_ms) has passed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "policy/policy_set.hpp"
#include "queue/group_commit.hpp"
#include "smtp/server/connection_limiter.hpp"
#include "smtp/server/session_machine.hpp"
#include "smtp/server/session_tracker.hpp"
#include "tls/chain_verifier.hpp"

namespace bh::smtp {

struct SessionContext {
  SessionSettings settings;  // routes and trust come from policy, per session
  const PolicyHolder& policy;
  std::shared_ptr<boost::asio::ssl::context> tls;      // null: no STARTTLS
  std::shared_ptr<const tls::ChainVerifier> verifier;  // inbound connectors' own CA bundles
  queue::GroupCommit& commit;
  ConnectionLimiter& limiter;
  SessionTracker& sessions;  // for the shutdown's 421 4.3.2
};

boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket,
                                         const SessionContext& context);

}  // namespace bh::smtp
