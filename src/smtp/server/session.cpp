#include "smtp/server/session.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <optional>

#include "smtp/transport.hpp"
#include "tls/identity.hpp"
#include "util/log.hpp"

namespace bh::smtp {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

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
asio::awaitable<bool> start_tls(Transport& transport, SessionMachine& machine,
                                asio::ssl::context& context, const tls::ChainVerifier* verifier) {
  auto ec = co_await transport.handshake(context, asio::ssl::stream_base::server, "");
  if (ec) {
    machine.connection_lost("tls handshake failed: " + ec.message());
    co_return false;
  }
  tls::SessionTlsInfo info = tls::describe_session(transport.ssl_handle());
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
  std::vector<std::string> verified_by;
  if (verifier != nullptr) verified_by = verifier->verified_by(transport.ssl_handle());
  machine.tls_started({info.version, info.cipher, info.peer.subject, info.peer.sha256_fingerprint,
                       info.peer.chain_verified, info.peer.common_name, info.peer.dns_names,
                       std::move(verified_by)});
  co_return true;
}

}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, const SessionContext& context) {
  const Limits& limits = context.settings.limits;
  auto started = Clock::now();
  auto session_end = started + std::chrono::seconds(limits.session_timeout_seconds);
  auto next_deadline = [&] {
    return std::min(Clock::now() + std::chrono::seconds(limits.idle_timeout_seconds), session_end);
  };
  ClientInfo client;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;  // the client left before we looked
  client.ip = remote.address().to_string();
  client.port = remote.port();

  auto transport = Transport::create(std::move(socket), next_deadline());
  // The rules in force when the client connected stay in force for it.
  std::shared_ptr<const PolicySet> policy = context.policy.current();
  SessionSettings settings = context.settings;
  settings.routes = &policy->routes;
  settings.trust = &policy->trust;
  SessionMachine machine(settings, client);
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
      auto write_error = co_await transport->write(asio::buffer(machine.output()));
      machine.output().clear();
      if (write_error) {
        machine.connection_lost("write failed: " + write_error.message());
        break;
      }
    }
    switch (event) {
      case SessionMachine::Event::need_input: {
        auto space = machine.input_space(4096);
        auto [read_error, n] =
            co_await transport->read_some(asio::buffer(space.data(), space.size()));
        if (read_error) {
          if (transport->timed_out()) {
            machine.timed_out();  // says 421, then step() returns close
          } else {
            machine.connection_lost(read_error == asio::error::eof ? "client disconnected"
                                                                   : read_error.message());
          }
          break;
        }
        machine.input_received(n);
        transport->set_deadline(next_deadline());
        break;
      }
      case SessionMachine::Event::start_tls:
        if (!context.tls) {
          open = false;
        } else {
          bool secured =
              co_await start_tls(*transport, machine, *context.tls, context.verifier.get());
          open = secured;
        }
        transport->set_deadline(next_deadline());
        break;
      case SessionMachine::Event::commit: {
        MessageDraft& draft = machine.draft();
        std::string error = co_await context.commit.async_commit(
            draft.envelope, std::move(draft.content), asio::use_awaitable);
        machine.commit_finished(error);
        transport->set_deadline(next_deadline());
        break;
      }
      case SessionMachine::Event::close:
        open = false;
        break;
    }
  }
  transport->close();
  log_session(machine, started);
}

}  // namespace bh::smtp
