#include "connectors/sms/smpp_bind.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <fmt/format.h>

#include "connectors/sms/smpp_connect.hpp"
#include "smtp/transport.hpp"
#include "util/log.hpp"

// Note: g++ 12 miscompiles co_await inside conditions and call arguments;
// every co_await here is a statement of its own.

namespace bh::connectors::sms {
namespace asio = boost::asio;
using smpp::Clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// "Never" for a timer or the transport's watchdog: far, but well within
// the range of steady_clock's nanoseconds.
constexpr auto kFar = std::chrono::hours(24 * 365);
constexpr std::size_t kReadBuffer = 16 * 1024;

std::string endpoint_text(const BindSettings& settings) {
  if (settings.host.find(':') != std::string::npos)
    return fmt::format("[{}]:{}", settings.host, settings.port);
  return fmt::format("{}:{}", settings.host, settings.port);
}

}  // namespace

// One connection: a transport and the machine for it. The writer and the
// ticker coroutines hold it; `closed` ends them.
struct Link {
  explicit Link(asio::io_context& io, smpp::SessionSettings settings)
      : machine(std::move(settings)), wake_writer(io), tick_timer(io) {}
  std::shared_ptr<smtp::Transport> transport;
  smpp::SessionMachine machine;
  asio::steady_timer wake_writer;  // cancelled when there is output
  asio::steady_timer tick_timer;   // at machine.next_deadline()
  std::uint64_t session = 0;
  bool closing = false;  // Closed from the machine: write what is queued, then close
  bool closed = false;
  bool was_bound = false;
  bool bind_refused = false;
  std::string close_reason;
};

// The bind's state, owned jointly by the SmppBind and its coroutines
// (SmppBind::State is this under the header's name).
struct BindCore {
  BindCore(asio::io_context& io_in, const BindSettings& bind_in, const SmsSettings& connector_in)
      : io(io_in), bind(bind_in), connector(connector_in), retry_timer(io_in), stop_timer(io_in) {}

  asio::io_context& io;
  BindSettings bind;
  SmsSettings connector;
  SmppBind* owner = nullptr;  // null once the SmppBind is gone: no more handler calls
  BindHandler* handler = nullptr;
  std::string name;
  std::shared_ptr<asio::ssl::context> tls;
  std::string tls_problem;  // the context could not be made (logged at each attempt)

  std::shared_ptr<Link> link;
  std::uint64_t sessions = 0;
  asio::steady_timer retry_timer;
  asio::steady_timer stop_timer;
  bool started = false;
  bool stopping = false;
  bool finished = false;
  std::function<void()> stop_done;

  Clock::time_point throttled_until{};
  std::chrono::milliseconds next_throttle{0};

  smpp::SessionSettings session_settings() const {
    smpp::SessionSettings s;
    s.system_id = bind.system_id;
    s.password = bind.password;
    s.system_type = bind.system_type;
    s.window = static_cast<std::size_t>(std::max(1, connector.window));
    s.response_timeout = connector.timing.response_timeout;
    s.enquire_link_interval = connector.timing.enquire_link_interval;
    return s;
  }

  void finish() {
    if (finished) return;
    finished = true;
    stop_timer.cancel();
    if (auto done = std::move(stop_done)) {
      stop_done = nullptr;
      done();
    }
  }

  void close_link(Link& l, const std::string& reason) {
    if (l.closed) return;
    l.closed = true;
    if (l.close_reason.empty()) l.close_reason = reason;
    if (l.transport) l.transport->close();
    l.wake_writer.cancel();
    l.tick_timer.cancel();
  }

  // After the machine was fed: hand its events out, then wake the writer
  // and the ticker (both recompute what to do).
  void pump(const std::shared_ptr<Link>& l) {
    for (auto& event : l->machine.take_events()) dispatch(*l, event);
    if (!l->closed) {
      l->wake_writer.cancel();
      l->tick_timer.cancel();
      // The last words (unbind_resp) still go out: the writer closes after them.
      if (l->closing) l->transport->set_deadline(Clock::now() + connector.timing.response_timeout);
    }
  }

  void dispatch(Link& l, smpp::SessionEvent& event) {
    if (auto* bound = std::get_if<smpp::Bound>(&event)) {
      l.was_bound = true;
      next_backoff = connector.timing.reconnect_min;
      log::Line("sms_bind_up")
          .kv("connector", connector.name)
          .kv("bind", name)
          .kv("smsc", bound->smsc_system_id)
          .kv("tls", l.transport && l.transport->tls_active())
          .write();
      if (owner) handler->bound(*owner);
    } else if (auto* failed = std::get_if<smpp::BindFailed>(&event)) {
      l.bind_refused = true;
      l.close_reason = "bind refused: " + failed->text;
      log::Line("sms_bind_failed")
          .kv("connector", connector.name)
          .kv("bind", name)
          .kv("system_id", bind.system_id)
          .kv("reason", failed->text)
          .write(log::Level::error);
    } else if (auto* answered = std::get_if<smpp::SubmitAnswered>(&event)) {
      if (answered->status == smpp::status::ok) next_throttle = connector.timing.throttle_backoff;
      if (owner) handler->submit_answered(*owner, *answered);
    } else if (auto* lost = std::get_if<smpp::SubmitLost>(&event)) {
      if (owner) handler->submit_lost(*owner, *lost);
    } else if (auto* delivered = std::get_if<smpp::Delivered>(&event)) {
      if (owner) handler->delivered(*owner, *delivered);
    } else if (auto* problem = std::get_if<smpp::ProtocolProblem>(&event)) {
      log::Line("sms_protocol_problem")
          .kv("connector", connector.name)
          .kv("bind", name)
          .kv("reason", problem->text)
          .write(log::Level::warn);
    } else if (auto* closed = std::get_if<smpp::Closed>(&event)) {
      if (l.close_reason.empty()) l.close_reason = closed->reason;
      l.closing = true;
    }
  }

  std::chrono::milliseconds next_backoff{0};
};

struct SmppBind::State : BindCore {
  using BindCore::BindCore;
};

namespace {

using StatePtr = std::shared_ptr<BindCore>;

asio::awaitable<void> writer(StatePtr state, std::shared_ptr<Link> link) {
  while (!link->closed) {
    std::string output = link->machine.take_output();
    if (output.empty() && link->closing) {
      state->close_link(*link, link->close_reason);
      break;
    }
    if (output.empty()) {
      link->wake_writer.expires_after(kFar);
      co_await link->wake_writer.async_wait(use_tuple);
      continue;
    }
    auto ec = co_await link->transport->write(asio::buffer(output));
    if (ec && !link->closed) {
      if (!link->closing) link->machine.connection_lost("write: " + ec.message());
      state->pump(link);
      state->close_link(*link, "write: " + ec.message());
    }
  }
}

asio::awaitable<void> ticker(StatePtr state, std::shared_ptr<Link> link) {
  while (!link->closed) {
    std::optional<Clock::time_point> due = link->machine.next_deadline();
    link->tick_timer.expires_at(due ? *due : Clock::now() + kFar);
    co_await link->tick_timer.async_wait(use_tuple);  // expiry or a reschedule alike
    if (link->closed || link->closing) break;
    due = link->machine.next_deadline();
    if (due && Clock::now() >= *due) {
      link->machine.tick(Clock::now());
      state->pump(link);
    }
  }
}

// One connection from connect to close. Returns the reason it ended.
asio::awaitable<void> session(StatePtr state, std::shared_ptr<Link> link) {
  SmscTarget target{state->bind, state->connector.timing.connect_timeout, state->tls,
                    state->tls_problem};
  auto attach = [link](std::shared_ptr<smtp::Transport> transport) {
    link->transport = std::move(transport);
  };
  auto stopped = [link] { return link->closed; };
  std::string failure = co_await connect_smsc(std::move(target), attach, stopped);
  if (!failure.empty()) {
    state->close_link(*link, failure);
    co_return;
  }
  if (link->closed) co_return;
  link->machine.connected(Clock::now());
  asio::co_spawn(state->io, writer(state, link), log::LogEscaped{"sms bind writer"});
  asio::co_spawn(state->io, ticker(state, link), log::LogEscaped{"sms bind ticker"});
  state->pump(link);
  std::vector<std::uint8_t> buffer(kReadBuffer);
  while (!link->closed) {
    auto [ec, n] = co_await link->transport->read_some(asio::buffer(buffer));
    if (link->closed) break;
    if (ec) {
      std::string reason =
          ec == asio::error::eof ? "the SMSC closed the connection" : "read: " + ec.message();
      if (!link->closing) link->machine.connection_lost(reason);
      state->pump(link);
      state->close_link(*link, reason);
      break;
    }
    if (link->closing) continue;  // until the writer has said the last words
    link->machine.received(std::span<const std::uint8_t>(buffer.data(), n), Clock::now());
    state->pump(link);
  }
}

asio::awaitable<void> run(StatePtr state) {
  state->next_backoff = state->connector.timing.reconnect_min;
  while (!state->stopping) {
    auto link = std::make_shared<Link>(state->io, state->session_settings());
    link->session = ++state->sessions;
    state->link = link;
    co_await session(state, link);
    state->close_link(*link, "closed");
    if (link->was_bound) {
      log::Line("sms_bind_down")
          .kv("connector", state->connector.name)
          .kv("bind", state->name)
          .kv("reason", link->close_reason)
          .write(state->stopping ? log::Level::info : log::Level::warn);
      if (state->owner) state->handler->unbound(*state->owner, link->close_reason);
    } else if (!link->bind_refused && !state->stopping) {
      log::Line("sms_bind_down")
          .kv("connector", state->connector.name)
          .kv("bind", state->name)
          .kv("reason", link->close_reason)
          .write(log::Level::warn);
    }
    if (state->stopping) break;
    std::chrono::milliseconds wait = state->next_backoff;
    if (link->bind_refused) {
      wait = state->connector.timing.reconnect_max;
    } else {
      state->next_backoff =
          std::min(state->next_backoff * 2, state->connector.timing.reconnect_max);
    }
    state->retry_timer.expires_after(wait);
    co_await state->retry_timer.async_wait(use_tuple);  // a stop cancels it
  }
  state->link.reset();
  state->finish();
}

asio::awaitable<void> stop_guard(StatePtr state, std::chrono::milliseconds limit) {
  state->stop_timer.expires_after(limit);
  co_await state->stop_timer.async_wait(use_tuple);
  if (state->finished) co_return;
  // No unbind_resp in time: close; run() ends and calls finish().
  if (state->link) state->close_link(*state->link, "no answer to unbind");
}

}  // namespace

SmppBind::SmppBind(asio::io_context& io, const BindSettings& settings, const SmsSettings& connector,
                   int index, BindHandler& handler)
    : state_(std::make_shared<State>(io, settings, connector)), index_(index) {
  name_ = fmt::format("{}/{} {}", connector.name, index, endpoint_text(settings));
  state_->owner = this;
  state_->handler = &handler;
  state_->name = name_;
  state_->next_throttle = connector.timing.throttle_backoff;
  if (settings.tls) {
    auto context = bind_tls_context(settings);
    if (context)
      state_->tls = *context;
    else
      state_->tls_problem = context.error().message;
  }
}

SmppBind::~SmppBind() {
  // The coroutines may outlive this object (they own the State): they must
  // no longer call the handler, and the socket goes now.
  state_->owner = nullptr;
  state_->stopping = true;
  state_->stop_done = nullptr;
  state_->retry_timer.cancel();
  if (state_->link) state_->close_link(*state_->link, "the connector stopped");
}

void SmppBind::start() {
  if (state_->started) return;
  state_->started = true;
  asio::co_spawn(state_->io, run(state_), log::LogEscaped{"sms bind"});
}

void SmppBind::stop(std::function<void()> done) {
  State& s = *state_;
  if (s.finished || !s.started) {
    s.stopping = true;
    s.finished = true;
    if (done) asio::post(s.io, std::move(done));
    return;
  }
  s.stop_done = std::move(done);
  if (s.stopping) return;
  s.stopping = true;
  s.retry_timer.cancel();
  std::shared_ptr<Link> link = s.link;
  if (link && !link->closed && link->machine.state() == smpp::SessionState::bound) {
    link->machine.unbind(Clock::now());
    s.pump(link);
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
        s.connector.timing.response_timeout + kStopSlack);
    asio::co_spawn(s.io, stop_guard(state_, limit), log::LogEscaped{"sms bind stop"});
  } else if (link) {
    s.close_link(*link, "the connector stopped");
  }
}

bool SmppBind::ready() const {
  const State& s = *state_;
  if (s.stopping || !s.link || s.link->closed || s.link->closing) return false;
  if (!s.link->machine.can_submit()) return false;
  return Clock::now() >= s.throttled_until;
}

bool SmppBind::bound() const {
  const State& s = *state_;
  return !s.stopping && s.link && !s.link->closed && !s.link->closing &&
         s.link->machine.state() == smpp::SessionState::bound;
}

void SmppBind::throttled() {
  State& s = *state_;
  s.throttled_until = Clock::now() + s.next_throttle;
  s.next_throttle = std::min(s.next_throttle * 2, s.connector.timing.throttle_backoff_max);
}

Clock::time_point SmppBind::throttled_until() const {
  return state_->throttled_until;
}

std::uint32_t SmppBind::submit(const smpp::ShortMessage& message, std::uint64_t token) {
  State& s = *state_;
  if (!s.link || s.link->closed || s.link->closing || !s.link->machine.can_submit()) return 0;
  std::shared_ptr<Link> link = s.link;
  std::uint32_t sequence = link->machine.submit(message, token, Clock::now());
  // Events (a submit refused at once) reach the handler after submit()
  // returned, never inside it: the caller records the token first.
  std::shared_ptr<BindCore> core = state_;
  asio::post(s.io, [core, link] {
    if (!link->closed) core->pump(link);
  });
  return sequence;
}

std::uint64_t SmppBind::session() const {
  return state_->link ? state_->link->session : 0;
}

void SmppBind::answer_deliver(std::uint32_t sequence, std::uint32_t status) {
  answer_deliver(sequence, status, session());
}

void SmppBind::answer_deliver(std::uint32_t sequence, std::uint32_t status, std::uint64_t session) {
  State& s = *state_;
  std::shared_ptr<Link> link = s.link;
  // The session the deliver_sm came in is gone: the SMSC sends it again.
  if (!link || link->closed || link->session != session) return;
  link->machine.answer_deliver(sequence, status, Clock::now());
  s.pump(link);
}

}  // namespace bh::connectors::sms
