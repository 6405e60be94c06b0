// The SMPP codec's command table (layout_of), TLV lookup and the
// response to a request; the decoder and the encoder are
// smpp_pdu_decode.cpp and smpp_pdu_encode.cpp, the names smpp_pdu_names.cpp.
#include "connectors/sms/smpp_pdu.hpp"

#include <utility>

#include "connectors/sms/smpp_pdu_internal.hpp"

namespace bh::connectors::sms::smpp {

std::optional<Layout> layout_of(std::uint32_t id) {
  using namespace command;
  switch (id) {
    case generic_nack:
    case enquire_link:
    case enquire_link | response_bit:
    case unbind:
    case unbind | response_bit:
      return Layout::empty;
    case bind_receiver:
    case bind_transmitter:
    case bind_transceiver:
      return Layout::bind;
    case bind_receiver | response_bit:
    case bind_transmitter | response_bit:
    case bind_transceiver | response_bit:
      return Layout::bind_resp;
    case submit_sm:
    case deliver_sm:
      return Layout::short_message;
    case submit_sm | response_bit:
      return Layout::message_id;
    case deliver_sm | response_bit:
      return Layout::deliver_resp;
    case query_sm:
    case query_sm | response_bit:
    case replace_sm:
    case replace_sm | response_bit:
    case cancel_sm:
    case cancel_sm | response_bit:
    case outbind:  // has system_id and password; an ESME that connects out never reads them
    case submit_multi:
    case submit_multi | response_bit:
    case alert_notification:
    case data_sm:
    case data_sm | response_bit:
      return Layout::unread;
    default:
      return std::nullopt;
  }
}

bool has_response(std::uint32_t id) {
  return is_request(id) && layout_of(id) && id != command::outbind &&
         id != command::alert_notification;
}

const Tlv* find_tlv(const std::vector<Tlv>& tlvs, std::uint16_t tag) {
  for (const auto& t : tlvs)
    if (t.tag == tag) return &t;
  return nullptr;
}

Pdu response_to(const Pdu& request, std::uint32_t status, Body body) {
  Pdu response;
  response.command_id = has_response(request.command_id)
                            ? request.command_id | command::response_bit
                            : command::generic_nack;
  response.command_status = status;
  response.sequence = request.sequence;
  response.body = std::move(body);
  return response;
}

}  // namespace bh::connectors::sms::smpp
