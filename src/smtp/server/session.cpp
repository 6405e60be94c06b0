#include "smtp/server/session.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <optional>

#include "tls/identity.hpp"
#include "util/log.hpp"

namespace bh::smtp {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kGoodbyeGrace = std::chrono::seconds(10);
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Socket, TLS stream and deadlines, shared by the session and its watchdog.
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  Clock::time_point deadline() const { return std::min(idle_deadline, session_deadline); }

  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  asio::steady_timer timer;
  Clock::time_point idle_deadline;
  Clock::time_point session_deadline;
  bool timed_out = false;
  bool finished = false;
};

// Cancels the session's I/O when a deadline passes; after that it gives the
// session a short grace period to say 421, then closes the socket hard.
asio::awaitable<void> watchdog(std::shared_ptr<Connection> connection) {
  while (!connection->finished) {
    connection->timer.expires_at(connection->deadline());
    auto [ec] = co_await connection->timer.async_wait(use_tuple);
    if (connection->finished) co_return;
    if (Clock::now() < connection->deadline()) continue;
    boost::system::error_code ignored;
    if (connection->timed_out) {
      connection->lowest().close(ignored);
      co_return;
    }
    connection->timed_out = true;
    connection->lowest().cancel(ignored);
    connection->idle_deadline = connection->session_deadline = Clock::now() + kGoodbyeGrace;
  }
}

asio::awaitable<boost::system::error_code> write_all(Connection& c, const std::string& data) {
  auto buffer = asio::buffer(data);
  auto [ec, n] = c.tls ? co_await asio::async_write(*c.tls, buffer, use_tuple)
                       : co_await asio::async_write(c.socket, buffer, use_tuple);
  co_return ec;
}

std::string refusal_text(ConnectionLimiter::Verdict verdict, const std::string& ip) {
  return verdict == ConnectionLimiter::Verdict::too_many_total
             ? "Error: too many connections"
             : "Error: too many connections from " + ip;
}

void log_session(const SessionMachine& machine, Clock::time_point started) {
  const ClientInfo& c = machine.client();
  const SessionStats& s = machine.stats();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  log::Line("session")
      .kv("peer", c.ip)
      .kv("port", c.port)
      .kv("helo", c.helo)
      .kv("tls", c.tls_version.empty() ? "none" : c.tls_version)
      .kv("cipher", c.tls_cipher)
      .kv("client_cert", c.cert_subject.empty() ? "none" : c.cert_subject)
      .kv("client_cert_verified", c.cert_verified)
      .kv("accepted", s.messages_accepted)
      .kv("rejected", s.messages_rejected)
      .kv("rcpt_rejected", s.recipients_rejected)
      .kv("errors", s.errors)
      .kv("discarded_after_starttls", s.discarded_after_starttls)
      .kv("result", s.end_reason)
      .kv("duration_ms", static_cast<long long>(elapsed.count()))
      .write();
}

// Returns false when the handshake failed and the connection is unusable.
asio::awaitable<bool> start_tls(Connection& c, SessionMachine& machine,
                                asio::ssl::context& context) {
  c.tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(c.socket), context);
  auto [ec] = co_await c.tls->async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    machine.connection_lost("tls handshake failed: " + ec.message());
    co_return false;
  }
  tls::SessionTlsInfo info = tls::describe_session(c.tls->native_handle());
  log::Line("tls")
      .kv("peer", machine.client().ip)
      .kv("version", info.version)
      .kv("cipher", info.cipher)
      .kv("client_cert", info.peer.presented ? info.peer.subject : "none")
      .kv("cert_cn", info.peer.common_name)
      .kv("cert_issuer", info.peer.issuer)
      .kv("cert_sha256", info.peer.sha256_fingerprint)
      .kv("cert_verified", info.peer.chain_verified)
      .kv("verify_error", info.peer.verify_error)
      .write();
  machine.tls_started(info.version, info.cipher, info.peer.subject, info.peer.sha256_fingerprint,
                      info.peer.chain_verified);
  co_return true;
}

}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, const SessionContext& context) {
  const Limits& limits = context.settings.limits;
  auto started = Clock::now();
  ClientInfo client;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;  // the client left before we looked
  client.ip = remote.address().to_string();
  client.port = remote.port();

  auto connection = std::make_shared<Connection>(std::move(socket));
  connection->idle_deadline = started + std::chrono::seconds(limits.idle_timeout_seconds);
  connection->session_deadline = started + std::chrono::seconds(limits.session_timeout_seconds);
  asio::co_spawn(connection->timer.get_executor(), watchdog(connection), asio::detached);

  SessionMachine machine(context.settings, client);
  std::optional<ConnectionSlot> slot;
  auto verdict = context.limiter.admit(client.ip);
  if (verdict == ConnectionLimiter::Verdict::admitted) {
    slot.emplace(context.limiter, client.ip);
    machine.greet();
  } else {
    machine.refuse(421, "4.7.0", refusal_text(verdict, client.ip));
  }

  bool open = true;
  while (open) {
    auto event = machine.step();
    if (!machine.output().empty()) {
      auto write_error = co_await write_all(*connection, machine.output());
      machine.output().clear();
      if (write_error) {
        machine.connection_lost("write failed: " + write_error.message());
        break;
      }
    }
    switch (event) {
      case SessionMachine::Event::need_input: {
        auto space = machine.input_space(4096);
        auto buffer = asio::buffer(space.data(), space.size());
        auto [read_error, n] = connection->tls
                                   ? co_await connection->tls->async_read_some(buffer, use_tuple)
                                   : co_await connection->socket.async_read_some(buffer, use_tuple);
        if (read_error) {
          if (connection->timed_out) {
            machine.timed_out();  // says 421, then step() returns close
          } else {
            machine.connection_lost(read_error == asio::error::eof ? "client disconnected"
                                                                   : read_error.message());
          }
          break;
        }
        machine.input_received(n);
        connection->idle_deadline =
            Clock::now() + std::chrono::seconds(limits.idle_timeout_seconds);
        break;
      }
      case SessionMachine::Event::start_tls:
        if (!context.tls || !co_await start_tls(*connection, machine, *context.tls)) open = false;
        break;
      case SessionMachine::Event::commit: {
        MessageDraft& draft = machine.draft();
        std::string error = co_await context.commit.async_commit(
            draft.envelope, std::move(draft.content), asio::use_awaitable);
        machine.commit_finished(error);
        break;
      }
      case SessionMachine::Event::close:
        open = false;
        break;
    }
  }
  connection->finished = true;
  connection->timer.cancel();
  boost::system::error_code ignored;
  connection->lowest().shutdown(tcp::socket::shutdown_both, ignored);
  connection->lowest().close(ignored);
  log_session(machine, started);
}

}  // namespace bh::smtp
