// What comes from the SMSC: octets framed into PDUs, requests answered
// (or turned into Delivered events), responses matched to our requests.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "connectors/sms/smpp_session.hpp"
#include "connectors/sms/smpp_session_internal.hpp"

namespace bh::connectors::sms::smpp {

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

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

}  // namespace bh::connectors::sms::smpp
