// Connecting one SMPP bind (smpp_bind.hpp): TCP to each address of the
// SMSC's host in turn, then, with tls, the handshake and the check of the
// SMSC's certificate against its name (tls/client_policy.hpp, "domain").
// Keeps TLS out of the bind's session loop.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "connectors/sms/sms_settings.hpp"
#include "util/result.hpp"

namespace boost::asio::ssl {
class context;
}
namespace bh::smtp {
class Transport;
}

namespace bh::connectors::sms {

// The client TLS context of a bind with tls = true (CA file, client
// certificate); an error says why it cannot be made.
Result<std::shared_ptr<boost::asio::ssl::context>> bind_tls_context(const BindSettings& bind);

struct SmscTarget {
  BindSettings bind;
  std::chrono::seconds connect_timeout{10};
  std::shared_ptr<boost::asio::ssl::context> tls;  // with bind.tls; null: tls_problem
  std::string tls_problem;
};

// Connects; "" when connected, else why not ("stopped" once stopped()).
// attach(transport) is called with each transport as it is made, before it
// connects, so that the caller can close it to cancel the attempt; the
// last one attached is the connection.
boost::asio::awaitable<std::string> connect_smsc(
    SmscTarget target, std::function<void(std::shared_ptr<smtp::Transport>)> attach,
    std::function<bool()> stopped);

}  // namespace bh::connectors::sms
