// SessionMachine's life: the bind it starts, the submits and deliver_sm
// answers it sends, unbind and close, and what it hands the driver. What
// comes from the SMSC is smpp_session_receive.cpp; timeouts and
// enquire_link smpp_session_timers.cpp.
#include "connectors/sms/smpp_session.hpp"

#include <utility>

#include <fmt/format.h>

#include "connectors/sms/smpp_session_internal.hpp"

namespace bh::connectors::sms::smpp {

namespace {

constexpr std::uint32_t kMaxSequence = 0x7FFFFFFF;

}  // namespace

SessionMachine::SessionMachine(SessionSettings settings) : settings_(std::move(settings)) {
  // next_sequence() hands out the one after sequence_.
  if (settings_.first_sequence >= 1 && settings_.first_sequence <= kMaxSequence)
    sequence_ = settings_.first_sequence - 1;
}

bool SessionMachine::can_submit() const {
  return state_ == SessionState::bound && submits_outstanding_ < settings_.window;
}

std::uint32_t SessionMachine::next_sequence() {
  // Skips numbers still in use after a wrap (a request of ours that old
  // would long have timed out, but a duplicate key would mismatch answers).
  do {
    sequence_ = sequence_ >= kMaxSequence ? 1 : sequence_ + 1;
  } while (outstanding_.contains(sequence_) || late_.contains(sequence_));
  return sequence_;
}

void SessionMachine::send(const Pdu& pdu) {
  auto octets = encode(pdu);
  if (!octets) {
    problem(fmt::format("{} seq={} not sent: {}", command_text(pdu.command_id), pdu.sequence,
                        octets.error().message));
    return;
  }
  output_ += *octets;
}

Status SessionMachine::send_request(const Pdu& pdu, std::uint64_t token, Clock::time_point now) {
  auto octets = encode(pdu);
  if (!octets) {
    problem(fmt::format("{} seq={} not sent: {}", command_text(pdu.command_id), pdu.sequence,
                        octets.error().message));
    return octets.error();
  }
  output_ += *octets;
  outstanding_[pdu.sequence] = Outstanding{pdu.command_id, token, now + settings_.response_timeout};
  if (pdu.command_id == command::submit_sm) ++submits_outstanding_;
  return ok_status();
}

void SessionMachine::problem(std::string text) {
  events_.emplace_back(ProtocolProblem{std::move(text)});
}

void SessionMachine::connected(Clock::time_point now) {
  if (state_ != SessionState::idle) return;
  Pdu bind;
  bind.command_id = command::bind_transceiver;
  bind.sequence = next_sequence();
  Bind body;
  body.system_id = settings_.system_id;
  body.password = settings_.password;
  body.system_type = settings_.system_type;
  bind.body = std::move(body);
  state_ = SessionState::binding;
  last_received_ = now;
  if (auto sent = send_request(bind, 0, now); !sent) {
    // The settings reader checks the lengths; this is the bug guard's way out.
    events_.emplace_back(BindFailed{status::bind_failed, sent.error().message});
    close("bind_transceiver not sent: " + sent.error().message);
  }
}

std::uint32_t SessionMachine::submit(const ShortMessage& message, std::uint64_t token,
                                     Clock::time_point now) {
  if (state_ == SessionState::closed) return 0;
  if (!can_submit()) {
    // The caller asks can_submit() first; this keeps its token accounted for.
    events_.emplace_back(SubmitLost{token, "not sent: the session is not ready for a submit"});
    return 0;
  }
  Pdu pdu;
  pdu.command_id = command::submit_sm;
  pdu.sequence = next_sequence();
  pdu.body = message;
  if (!send_request(pdu, token, now).ok())
    // Nothing went out (a field over its maximum, a bug upstream): refused
    // at once, like an SMSC would, so the token does not wait for a timeout.
    events_.emplace_back(SubmitAnswered{token, status::system_error, {}});
  return pdu.sequence;
}

void SessionMachine::answer_deliver(std::uint32_t sequence, std::uint32_t status,
                                    Clock::time_point) {
  if (state_ == SessionState::closed) return;
  auto found = pending_delivers_.find(sequence);
  if (found == pending_delivers_.end()) return;
  pending_delivers_.erase(found);
  respond(command::deliver_sm, sequence, status);
}

void SessionMachine::unbind(Clock::time_point now) {
  if (state_ == SessionState::bound) {
    Pdu pdu;
    pdu.command_id = command::unbind;
    pdu.sequence = next_sequence();
    state_ = SessionState::unbinding;
    if (auto sent = send_request(pdu, 0, now); !sent)
      close("unbind not sent: " + sent.error().message);
    return;
  }
  if (state_ == SessionState::idle || state_ == SessionState::binding)
    close("stopped before the bind completed");
}

void SessionMachine::connection_lost(const std::string& reason) {
  if (state_ != SessionState::closed) close(reason);
}

void SessionMachine::close(const std::string& reason) {
  if (state_ == SessionState::closed) return;
  state_ = SessionState::closed;
  for (const auto& [sequence, request] : outstanding_)
    if (request.command_id == command::submit_sm)
      events_.emplace_back(
          SubmitLost{request.token, "no answer before the session closed: " + reason});
  outstanding_.clear();
  submits_outstanding_ = 0;
  late_.clear();  // no answer of this session can come any more
  late_order_.clear();
  submit_timeouts_ = 0;
  pending_delivers_.clear();
  input_.clear();
  events_.emplace_back(Closed{reason});
}

std::string SessionMachine::take_output() {
  return std::exchange(output_, {});
}

std::vector<SessionEvent> SessionMachine::take_events() {
  return std::exchange(events_, {});
}

}  // namespace bh::connectors::sms::smpp
