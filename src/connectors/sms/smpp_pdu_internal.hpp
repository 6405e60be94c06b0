// The command table of the SMPP codec, shared by its files (smpp_pdu.cpp,
// smpp_pdu_decode.cpp, smpp_pdu_encode.cpp): which body each command id
// has, and the rules of sequence numbers. Internal to the codec.
#pragma once

#include <cstdint>
#include <optional>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::connectors::sms::smpp {

inline constexpr std::uint32_t kMaxSequence = 0x7FFFFFFF;  // spec 3.2: 1 .. 0x7FFFFFFF

// How a command's body is laid out.
enum class Layout {
  empty,          // header only (generic_nack, enquire_link, unbind and their _resp)
  unread,         // known, body not read: decoded as Empty
  bind,           // bind_receiver / _transmitter / _transceiver
  bind_resp,      // system_id, TLVs
  short_message,  // submit_sm, deliver_sm
  message_id,     // submit_sm_resp: message_id
  deliver_resp,   // deliver_sm_resp: message_id that must be empty
};

// nullopt: a command id the spec does not name.
std::optional<Layout> layout_of(std::uint32_t id);

inline bool is_request(std::uint32_t id) {
  return (id & command::response_bit) == 0;
}

// Commands that have no _resp of their own (a problem with one is answered
// with generic_nack).
bool has_response(std::uint32_t id);

inline bool valid_sequence(std::uint32_t sequence) {
  return sequence >= 1 && sequence <= kMaxSequence;
}

}  // namespace bh::connectors::sms::smpp
