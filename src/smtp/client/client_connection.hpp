// One outbound SMTP connection: greeting, EHLO (HELO as fallback), STARTTLS
// as the TLS policy demands, then any number of transactions (PIPELINING,
// BDAT when offered), then QUIT. Failures are values with their scope:
// a SessionFailure concerns the whole connection (try the next host or
// defer); per-recipient results cover message and recipient errors.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "connectors/connector.hpp"
#include "smtp/proto/client_commands.hpp"
#include "smtp/proto/reply_parser.hpp"
#include "smtp/transport.hpp"
#include "tls/client_policy.hpp"

namespace bh::smtp {

struct ClientOptions {
  std::string helo_name = "localhost";
  tls::ClientPolicy policy = tls::ClientPolicy::opportunistic;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_name;  // name the certificate must match (domain policy) and SNI
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};
  std::chrono::seconds data_timeout{600};
  bool skip_starttls = false;  // plaintext retry after an opportunistic handshake failure
};

struct SessionFailure {
  std::string status;  // "4.4.1"
  std::string reason;
  bool permanent = false;      // the host refused us with 5xx
  bool tls_handshake = false;  // the TLS handshake itself failed
};

class ClientConnection {
 public:
  using Opened = std::variant<std::unique_ptr<ClientConnection>, SessionFailure>;

  static boost::asio::awaitable<Opened> open(boost::asio::ip::tcp::endpoint endpoint,
                                             std::string host_name, const ClientOptions& options);

  // One transaction for the given recipients of the message.
  boost::asio::awaitable<std::vector<connectors::RecipientResult>> send(
      const Envelope& envelope, std::string_view content,
      const std::vector<std::size_t>& recipients);

  boost::asio::awaitable<void> quit();
  bool usable() const { return usable_; }
  const std::string& host_name() const { return host_name_; }

 private:
  ClientConnection(std::shared_ptr<Transport> transport, std::string host_name,
                   const ClientOptions& options);

  boost::asio::awaitable<std::optional<SessionFailure>> handshake();
  boost::asio::awaitable<std::optional<ServerReply>> read_reply(std::chrono::seconds timeout);
  // data must stay alive until the write completes (callers keep it in their frame).
  boost::asio::awaitable<bool> write(std::string_view data, std::chrono::seconds timeout);
  boost::asio::awaitable<std::optional<ServerReply>> command(const std::string& line);
  boost::asio::awaitable<std::optional<SessionFailure>> greet_and_hello();
  SessionFailure lost(std::string_view during) const;

  std::shared_ptr<Transport> transport_;
  std::string host_name_;
  const ClientOptions& options_;
  Capabilities capabilities_;
  std::string buffer_;  // bytes read and not yet parsed
  bool usable_ = true;
  std::string last_error_;  // the I/O error that made the connection unusable
};

}  // namespace bh::smtp
