#include "connectors/sms/smpp_session.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace bh::connectors::sms::smpp {

namespace {

constexpr std::uint32_t kMaxSequence = 0x7FFFFFFF;

// For texts of events: the spec's name, else the id in hex.
std::string command_text(std::uint32_t id) {
  std::string name = command_name(id);
  return name.empty() ? fmt::format("command 0x{:08x}", id) : name;
}

// "30 s", or "1500 ms" when not whole seconds.
std::string duration_text(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{} s", duration.count() / 1000);
  return fmt::format("{} ms", duration.count());
}

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

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

void SessionMachine::received(std::span<const std::uint8_t> bytes, Clock::time_point now) {
  // Whole frames are decoded from `bytes` in place; only a frame split
  // across calls is collected in input_, so it never holds more than one
  // (frame_length refuses one longer than kMaxPduSize).
  while (state_ != SessionState::closed && !bytes.empty()) {
    if (input_.empty()) {
      auto length = frame_length(bytes);
      if (!length) return close("unframed data from the SMSC: " + length.error().message);
      if (*length && **length <= bytes.size()) {
        consume(bytes.first(**length), now);
        bytes = bytes.subspan(**length);
        continue;
      }
      input_.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return;
    }
    if (input_.size() < 4) {
      std::size_t take = std::min<std::size_t>(4 - input_.size(), bytes.size());
      input_.append(reinterpret_cast<const char*>(bytes.data()), take);
      bytes = bytes.subspan(take);
      if (input_.size() < 4) return;
    }
    auto length = frame_length(bytes_of(input_));
    if (!length) return close("unframed data from the SMSC: " + length.error().message);
    std::size_t take = std::min(**length - input_.size(), bytes.size());
    input_.append(reinterpret_cast<const char*>(bytes.data()), take);
    bytes = bytes.subspan(take);
    if (input_.size() == **length) {
      std::string frame = std::exchange(input_, {});
      consume(bytes_of(frame), now);
    }
  }
}

void SessionMachine::consume(std::span<const std::uint8_t> frame, Clock::time_point now) {
  last_received_ = now;
  auto decoded = decode(frame);
  if (auto* error = std::get_if<DecodeError>(&decoded)) {
    if ((error->command_id & command::response_bit) != 0) {
      problem(fmt::format("{} seq={} dropped: {}", command_text(error->command_id), error->sequence,
                          error->text));
      return;
    }
    problem(fmt::format("{} seq={} refused with {}: {}", command_text(error->command_id),
                        error->sequence, status_name(error->status), error->text));
    respond(error->command_id, error->sequence, error->status);
    return;
  }
  const Pdu& pdu = std::get<Pdu>(decoded);
  // Taken despite a flaw (a response is never refused once it can be
  // matched: a lost submit answer would send the SMS again): logged.
  if (!pdu.irregularity.empty())
    problem(fmt::format("{} seq={} taken as it is: {}", command_text(pdu.command_id), pdu.sequence,
                        pdu.irregularity));
  if ((pdu.command_id & command::response_bit) != 0)
    handle_response(pdu, now);
  else
    handle_request(pdu);
}

void SessionMachine::respond(std::uint32_t command_id, std::uint32_t sequence,
                             std::uint32_t status) {
  Pdu request;
  request.command_id = command_id;
  request.sequence = sequence;
  // deliver_sm_resp has its (unused, empty) message_id whatever the status.
  Body body = Empty{};
  if (command_id == command::deliver_sm) body = MessageIdResponse{};
  send(response_to(request, status, std::move(body)));
}

void SessionMachine::handle_request(const Pdu& pdu) {
  const std::string name = command_text(pdu.command_id);
  if (pdu.command_id == command::unbind) {
    send(response_to(pdu, status::ok));
    close("unbind from the SMSC");
    return;
  }
  if (pdu.command_id == command::alert_notification || pdu.command_id == command::outbind) {
    problem(fmt::format("{} seq={} ignored", name, pdu.sequence));
    return;
  }
  if (state_ != SessionState::bound && state_ != SessionState::unbinding) {
    problem(fmt::format("{} seq={} before the bind completed: generic_nack", name, pdu.sequence));
    Pdu nack;
    nack.command_id = command::generic_nack;
    nack.command_status = status::invalid_bind_status;
    nack.sequence = pdu.sequence;
    send(nack);
    return;
  }
  if (pdu.command_id == command::enquire_link) {
    send(response_to(pdu, status::ok));
    return;
  }
  if (pdu.command_id == command::deliver_sm) {
    const auto* message = std::get_if<ShortMessage>(&pdu.body);
    if (state_ == SessionState::unbinding) {
      // The SMSC keeps it and delivers it again after the next bind.
      respond(pdu.command_id, pdu.sequence, status::temporary_app_error);
      return;
    }
    if (message == nullptr || pending_delivers_.size() >= kMaxPendingDelivers) {
      problem(message == nullptr ? fmt::format("deliver_sm seq={} without a body", pdu.sequence)
                                 : fmt::format("deliver_sm seq={}: {} unanswered already",
                                               pdu.sequence, kMaxPendingDelivers));
      respond(pdu.command_id, pdu.sequence, status::temporary_app_error);
      return;
    }
    pending_delivers_.insert(pdu.sequence);
    events_.emplace_back(Delivered{pdu.sequence, *message});
    return;
  }
  problem(fmt::format("{} seq={} not supported: ESME_RINVCMDID", name, pdu.sequence));
  respond(pdu.command_id, pdu.sequence, status::invalid_command_id);
}

void SessionMachine::handle_response(const Pdu& pdu, Clock::time_point now) {
  const std::string name = command_text(pdu.command_id);
  auto found = outstanding_.find(pdu.sequence);
  if (found == outstanding_.end()) {
    auto late = late_.find(pdu.sequence);
    if (late != late_.end() && (pdu.command_id == (command::submit_sm | command::response_bit) ||
                                pdu.command_id == command::generic_nack)) {
      // Taken after all (or refused): the owner must not send it again.
      SubmitAnswered answer{late->second, pdu.command_status, {}, true};
      if (pdu.command_id == command::generic_nack && answer.status == status::ok)
        answer.status = status::unknown_error;
      if (answer.status == status::ok)
        if (const auto* body = std::get_if<MessageIdResponse>(&pdu.body))
          answer.message_id = body->message_id;
      late_.erase(late);
      std::erase(late_order_, pdu.sequence);
      problem(fmt::format("{} seq={} came after response_timeout", name, pdu.sequence));
      events_.emplace_back(std::move(answer));
      return;
    }
    problem(fmt::format("{} seq={} answers no request of ours", name, pdu.sequence));
    return;
  }
  const Outstanding request = found->second;
  const bool nack = pdu.command_id == command::generic_nack;
  if (!nack && pdu.command_id != (request.command_id | command::response_bit)) {
    problem(fmt::format("{} seq={} answers a {}", name, pdu.sequence,
                        command_text(request.command_id)));
    return;
  }
  outstanding_.erase(found);
  std::uint32_t status = pdu.command_status;
  if (nack) {
    problem(fmt::format("generic_nack seq={} for {}: {}", pdu.sequence,
                        command_text(request.command_id), status_name(status)));
    // A generic_nack never accepts: one without a status is still a refusal.
    if (status == status::ok) status = status::unknown_error;
  }
  switch (request.command_id) {
    case command::submit_sm: {
      --submits_outstanding_;
      submit_timeouts_ = 0;
      SubmitAnswered answer{request.token, status, {}};
      if (status == status::ok)
        if (const auto* body = std::get_if<MessageIdResponse>(&pdu.body))
          answer.message_id = body->message_id;
      events_.emplace_back(std::move(answer));
      return;
    }
    case command::bind_transceiver: {
      if (status != status::ok) {
        events_.emplace_back(BindFailed{status, status_name(status)});
        close("bind refused: " + status_name(status));
        return;
      }
      Bound bound;
      if (const auto* body = std::get_if<BindResponse>(&pdu.body))
        bound.smsc_system_id = body->system_id;
      state_ = SessionState::bound;
      last_received_ = now;
      events_.emplace_back(std::move(bound));
      return;
    }
    case command::unbind:
      close(nack ? "unbind answered with generic_nack" : "unbind answered by the SMSC");
      return;
    default:  // enquire_link: any answer shows the link is alive
      return;
  }
}

void SessionMachine::tick(Clock::time_point now) {
  if (state_ == SessionState::closed) return;
  // Expired requests, oldest deadline first: a lost submit goes on, a lost
  // bind, enquire_link or unbind closes.
  std::vector<std::pair<Clock::time_point, std::uint32_t>> expired;
  for (const auto& [sequence, request] : outstanding_)
    if (request.deadline <= now) expired.emplace_back(request.deadline, sequence);
  std::sort(expired.begin(), expired.end());
  for (const auto& [deadline, sequence] : expired) {
    auto found = outstanding_.find(sequence);
    if (found == outstanding_.end()) continue;
    Outstanding request = found->second;
    std::string text = fmt::format("no answer to {} within {}", command_text(request.command_id),
                                   duration_text(settings_.response_timeout));
    if (request.command_id != command::submit_sm) return close(text);
    outstanding_.erase(found);
    --submits_outstanding_;
    late_.emplace(sequence, request.token);
    late_order_.push_back(sequence);
    if (late_order_.size() > kMaxLateSubmits) {
      late_.erase(late_order_.front());
      late_order_.pop_front();
    }
    events_.emplace_back(SubmitLost{request.token, text, true});
    if (++submit_timeouts_ >= kMaxSubmitTimeouts)
      return close(fmt::format("no answer to {} submit_sm in a row within {}", submit_timeouts_,
                               duration_text(settings_.response_timeout)));
  }
  if (state_ != SessionState::bound) return;
  bool enquiring = std::any_of(outstanding_.begin(), outstanding_.end(), [](const auto& entry) {
    return entry.second.command_id == command::enquire_link;
  });
  if (!enquiring && now >= last_received_ + settings_.enquire_link_interval) {
    Pdu enquire;
    enquire.command_id = command::enquire_link;
    enquire.sequence = next_sequence();
    (void)send_request(enquire, 0, now);
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

std::optional<Clock::time_point> SessionMachine::next_deadline() const {
  if (state_ == SessionState::closed || state_ == SessionState::idle) return std::nullopt;
  std::optional<Clock::time_point> next;
  bool enquiring = false;
  for (const auto& [sequence, request] : outstanding_) {
    if (!next || request.deadline < *next) next = request.deadline;
    if (request.command_id == command::enquire_link) enquiring = true;
  }
  if (state_ == SessionState::bound && !enquiring) {
    Clock::time_point due = last_received_ + settings_.enquire_link_interval;
    if (!next || due < *next) next = due;
  }
  return next;
}

}  // namespace bh::connectors::sms::smpp
