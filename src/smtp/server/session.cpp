#include "smtp/server/session.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <optional>

#include "queue/part_file.hpp"
#include "smtp/transport.hpp"
#include "tls/identity.hpp"
#include "util/gateway_metrics.hpp"
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

// Wakes the driver when the machine's deadline passes, by cancelling the
// socket's pending read, write or handshake; the driver then asks the
// machine, which decides. Moving the deadline later costs nothing (the timer
// re-arms when it wakes); moving it earlier re-arms the timer at once.
struct DeadlineWatch {
  explicit DeadlineWatch(const asio::any_io_executor& executor) : timer(executor) {}

  // Before an I/O operation: when it must have finished.
  void expect(Clock::time_point at) {
    deadline = at;
    fired = false;
    if (at < armed) timer.cancel();  // wakes the loop, which re-arms
  }
  // After it: whether the watch cut it short.
  bool done() {
    deadline = Clock::time_point::max();
    return fired;
  }
  void stop() {
    stopped = true;
    timer.cancel();
  }

  asio::steady_timer timer;
  // The machine's deadline now (set by the session): a shutdown moves it.
  std::function<Clock::time_point()> recompute;
  Clock::time_point deadline = Clock::time_point::max();  // max: nothing pending
  Clock::time_point armed = Clock::time_point::max();     // the timer's expiry
  std::weak_ptr<Transport> transport;
  bool fired = false;
  bool stopped = false;
  // A reply is being written: a shutdown does not cut it (a 250 the client
  // misses would make it send a durable message again).
  bool writing = false;
};

asio::awaitable<void> watch_deadline(std::shared_ptr<DeadlineWatch> watch) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  while (!watch->stopped) {
    watch->armed = watch->deadline;
    watch->timer.expires_at(watch->armed);
    co_await watch->timer.async_wait(use_tuple);  // expiry, re-arm or stop alike
    if (watch->stopped) co_return;
    if (Clock::now() < watch->deadline) continue;
    watch->fired = true;
    watch->deadline = Clock::time_point::max();
    if (auto transport = watch->transport.lock()) {
      boost::system::error_code ignored;
      transport->lowest().cancel(ignored);
    }
  }
}

// Returns false when the handshake failed and the connection is unusable.
asio::awaitable<bool> start_tls(Transport& transport, SessionMachine& machine,
                                asio::ssl::context& context, const tls::ChainVerifier* verifier,
                                DeadlineWatch& watch) {
  auto ec = co_await transport.handshake(context, asio::ssl::stream_base::server, "");
  bool cut_short = watch.done();
  metrics::gateway_metrics().tls_handshakes.with({ec ? "failed" : "ok"}).inc();
  if (ec) {
    machine.connection_lost(cut_short ? "tls handshake timeout"
                                      : "tls handshake failed: " + ec.message());
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

std::int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The machine owns every client deadline (SessionMachine::deadline_ms): the
// driver only arms a timer at it for each read, write and handshake, and
// calls timed_out() when it has passed. A write may take at least
// kWriteGrace, so a reply the machine made (a 250 after a long commit, the
// 421 itself) still gets its chance.
asio::awaitable<void> run_session(tcp::socket socket, const SessionContext& context) {
  constexpr auto kWriteGrace = std::chrono::seconds(10);
  const Limits& limits = context.settings.limits;
  auto started = Clock::now();
  ClientInfo client;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;  // the client left before we looked
  client.ip = remote.address().to_string();
  client.port = remote.port();

  // The transport's own watchdog is only a backstop behind the machine's deadlines.
  auto transport = Transport::create(
      std::move(socket),
      started + std::chrono::seconds(limits.session_timeout_seconds) + std::chrono::minutes(1));
  auto watch = std::make_shared<DeadlineWatch>(transport->lowest().get_executor());
  watch->transport = transport;
  asio::co_spawn(watch->timer.get_executor(), watch_deadline(watch),
                 log::LogEscaped{"session deadline watch"});
  struct StopWatch {
    DeadlineWatch& watch;
    SessionTracker& sessions;
    std::uint64_t id = 0;
    ~StopWatch() {  // also when something escapes the loop
      sessions.remove(id);
      watch.recompute = nullptr;
      watch.stop();
    }
  } stop_watch{*watch, context.sessions};
  // The rules in force when the client connected stay in force for it.
  intake::Pipeline pipeline(context.policy.current());
  SessionSettings settings = context.settings;
  settings.intake = &pipeline;
  if (!settings.now_ms) settings.now_ms = monotonic_ms;
  SessionMachine machine(settings, client);
  // The machine's deadline on the steady clock; max: none.
  auto machine_deadline = [&]() -> Clock::time_point {
    auto at = machine.deadline_ms();
    if (!at) return Clock::time_point::max();
    return Clock::now() + std::chrono::milliseconds(*at - settings.now_ms());
  };
  watch->recompute = machine_deadline;
  // A shutdown asks every session for its deadline again (on its own thread).
  stop_watch.id = context.sessions.add([weak = std::weak_ptr<DeadlineWatch>(watch)] {
    auto alive = weak.lock();
    if (!alive) return;
    asio::post(alive->timer.get_executor(), [weak] {
      auto w = weak.lock();
      if (!w || w->stopped || !w->recompute || w->writing) return;
      if (Clock::time_point at = w->recompute(); at < w->deadline) w->expect(at);
    });
  });
  auto deadline_passed = [&] {
    auto at = machine.deadline_ms();
    return at && settings.now_ms() >= *at;
  };
  std::optional<ConnectionSlot> slot;
  auto verdict = context.limiter.admit(client.ip);
  if (verdict == ConnectionLimiter::Verdict::admitted) {
    slot.emplace(context.limiter, client.ip);
    machine.greet();
  } else {
    metrics::gateway_metrics().connection("refused_limit");
    machine.refuse(421, "4.7.0", refusal_text(verdict, client.ip));
  }

  queue::PartFile part;  // the spool file of the message whose body is arriving
  std::string part_id;
  bool open = true;
  while (open) {
    auto event = machine.step();
    // The transaction whose body was being written ended without a commit.
    if (!part_id.empty() && machine.draft().envelope.queue_id != part_id) {
      part.discard();
      part_id.clear();
    }
    if (!machine.output().empty()) {
      auto grace = Clock::now() + kWriteGrace;
      auto deadline = machine_deadline();
      watch->expect(deadline == Clock::time_point::max() ? grace : std::max(deadline, grace));
      watch->writing = true;
      auto write_error = co_await transport->write(asio::buffer(machine.output()));
      watch->writing = false;
      bool cut_short = watch->done();
      machine.output().clear();
      if (write_error) {
        machine.connection_lost(cut_short ? "timeout: client does not read replies"
                                          : "write failed: " + write_error.message());
        break;
      }
    }
    switch (event) {
      case SessionMachine::Event::need_input: {
        // Lines already buffered were taken by step(); what is missing now is late.
        if (deadline_passed()) {
          machine.timed_out();  // says 421, then step() returns close
          break;
        }
        watch->expect(machine_deadline());
        auto space = machine.input_space(4096);
        auto [read_error, n] =
            co_await transport->read_some(asio::buffer(space.data(), space.size()));
        bool cut_short = watch->done();
        if (read_error) {
          if (cut_short) break;  // the machine's deadline: decided above, next round
          if (transport->timed_out()) {
            machine.timed_out();
          } else {
            machine.connection_lost(read_error == asio::error::eof ? "client disconnected"
                                                                   : read_error.message());
          }
          break;
        }
        machine.input_received(n);
        break;
      }
      case SessionMachine::Event::start_tls:
        if (!context.tls) {
          open = false;
        } else {
          watch->expect(machine_deadline());
          bool secured =
              co_await start_tls(*transport, machine, *context.tls, context.verifier.get(), *watch);
          open = secured;
        }
        break;
      case SessionMachine::Event::spill: {
        // The body goes to the message's spool file as it arrives (a write
        // to the page cache; the flush comes with the group commit).
        const std::string& id = machine.draft().envelope.queue_id;
        if (part_id != id) {
          part.discard();
          part_id = id;
          int create_error = 0;
          auto created = queue::PartFile::create(context.commit.spool(), id, &create_error);
          if (created) part = std::move(*created);
          if (!created) {
            machine.spilled(created.error());
            break;
          }
        }
        machine.spilled(part.is_open() ? part.append(machine.spill_bytes())
                                       : Status(Error{"no spool file", {}}));
        break;
      }
      case SessionMachine::Event::commit: {
        MessageDraft& draft = machine.draft();
        queue::GroupCommit::Message message{
            draft.envelope, std::move(draft.content), draft.header_size, {}};
        if (part_id == draft.envelope.queue_id) message.part = std::move(part);
        part_id.clear();
        queue::CommitResult committed =
            co_await context.commit.async_commit(std::move(message), asio::use_awaitable);
        machine.commit_finished(committed);
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
