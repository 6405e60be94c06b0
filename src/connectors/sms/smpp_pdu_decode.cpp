// The SMPP decoder: framing (frame_length) and decode(), strict for
// requests and lenient for responses (smpp_pdu.hpp).
#include <fmt/format.h>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/smpp_pdu_fields.hpp"
#include "connectors/sms/smpp_pdu_internal.hpp"

namespace bh::connectors::sms::smpp {

namespace {

using namespace fields;

Bind read_bind(Reader& r) {
  Bind b;
  b.system_id = r.cstring("system_id", kSystemId, status::invalid_system_id);
  b.password = r.cstring("password", kPassword, status::invalid_password);
  b.system_type = r.cstring("system_type", kSystemType, status::invalid_system_type);
  b.interface_version = r.u8("interface_version");
  b.address_range = r.address("address_range", kAddressRange, status::invalid_command_length);
  return b;
}

ShortMessage read_short_message(Reader& r, TlvRead tlv_read) {
  ShortMessage m;
  m.service_type = r.cstring("service_type", kServiceType, status::invalid_service_type);
  m.source = r.address("source_addr", kAddress, status::invalid_source_address);
  m.destination = r.address("destination_addr", kAddress, status::invalid_dest_address);
  m.esm_class = r.u8("esm_class");
  m.protocol_id = r.u8("protocol_id");
  m.priority_flag = r.u8("priority_flag");
  m.schedule_delivery_time = r.time("schedule_delivery_time", status::invalid_schedule_time);
  m.validity_period = r.time("validity_period", status::invalid_validity_period);
  m.registered_delivery = r.u8("registered_delivery");
  m.replace_if_present = r.u8("replace_if_present_flag");
  m.data_coding = r.u8("data_coding");
  m.sm_default_msg_id = r.u8("sm_default_msg_id");
  std::uint8_t sm_length = r.u8("sm_length");
  if (r.failed()) return m;
  if (sm_length > kShortMessage) {
    r.fail(status::invalid_message_length,
           fmt::format("short_message: sm_length {} > {}", sm_length, kShortMessage));
    return m;
  }
  if (sm_length > r.left()) {
    r.fail(status::invalid_command_length,
           fmt::format("short_message: sm_length {} beyond the end of the PDU ({} left)", sm_length,
                       r.left()));
    return m;
  }
  m.short_message = r.octets(sm_length);
  m.tlvs = r.tlvs(tlv_read);
  if (!r.failed())
    if (auto p = check_message_fields(m)) r.fail(p->status, p->text);
  return m;
}

// Whether a response's body is missing: allowed for an error (spec 4.1.2,
// 4.4.2), noted for status 0 (decoded with empty fields all the same).
bool bare_response(Reader& r, std::uint32_t command_status) {
  if (r.left() != 0) return false;
  if (command_status == status::ok) r.note("no body with status 0");
  return true;
}

// Responses are read leniently (smpp_pdu.hpp, decode()): nothing in their
// bodies fails; what is odd is noted.
Body read_body(Reader& r, Layout layout, const Pdu& header) {
  switch (layout) {
    case Layout::empty:
    case Layout::unread:
      return Empty{};
    case Layout::bind:
      return read_bind(r);
    case Layout::bind_resp: {
      BindResponse b;
      if (bare_response(r, header.command_status)) return b;
      b.system_id = r.loose_cstring("system_id", kSystemId);
      b.tlvs = r.tlvs(TlvRead::loose);
      return b;
    }
    case Layout::short_message:
      // An SMSC's deliver_sm may carry a known TLV of an odd size: kept
      // raw, as refusing it would lose a receipt. (A submit_sm comes from
      // an ESME, never to us: strict.)
      return read_short_message(r, header.command_id == command::deliver_sm
                                       ? TlvRead::keep_wrong_sizes
                                       : TlvRead::strict);
    case Layout::message_id:
    case Layout::deliver_resp: {
      MessageIdResponse m;
      if (bare_response(r, header.command_status)) return m;
      bool deliver = layout == Layout::deliver_resp;
      m.message_id = r.loose_cstring(deliver ? "message_id (deliver_sm_resp: empty)" : "message_id",
                                     deliver ? 0 : kMessageId);
      return m;
    }
  }
  return Empty{};
}

}  // namespace

Result<std::optional<std::size_t>> frame_length(std::span<const std::uint8_t> buffered) {
  if (buffered.size() < 4) return std::optional<std::size_t>();
  std::uint32_t length = (std::uint32_t{buffered[0]} << 24) | (std::uint32_t{buffered[1]} << 16) |
                         (std::uint32_t{buffered[2]} << 8) | std::uint32_t{buffered[3]};
  if (length < kHeaderSize)
    return Error{
        fmt::format("SMPP command_length {} below the {}-octet header", length, kHeaderSize)};
  if (length > kMaxPduSize)
    return Error{fmt::format("SMPP command_length {} above the limit of {}", length, kMaxPduSize)};
  return std::optional<std::size_t>(length);
}

std::variant<Pdu, DecodeError> decode(std::span<const std::uint8_t> frame) {
  if (frame.size() < kHeaderSize)
    return DecodeError{0, 0, status::invalid_command_length,
                       fmt::format("PDU of {} octets, shorter than the {}-octet header",
                                   frame.size(), kHeaderSize)};
  Reader r(frame);
  std::uint32_t length = r.u32("command_length");
  Pdu pdu;
  pdu.command_id = r.u32("command_id");
  pdu.command_status = r.u32("command_status");
  pdu.sequence = r.u32("sequence_number");
  auto error = [&](std::uint32_t status, std::string text) {
    return DecodeError{pdu.command_id, pdu.sequence, status, std::move(text)};
  };
  if (length != frame.size() || length > kMaxPduSize)
    return error(status::invalid_command_length,
                 fmt::format("command_length {} for a frame of {} octets", length, frame.size()));
  auto layout = layout_of(pdu.command_id);
  if (!layout)
    return error(status::invalid_command_id,
                 fmt::format("unknown command_id 0x{:08x}", pdu.command_id));
  // The spec has no status for a bad sequence number; it is a header fault
  // and answered like the other one generic_nack names (ESME_RINVCMDLEN).
  if (is_request(pdu.command_id) && !valid_sequence(pdu.sequence))
    return error(status::invalid_command_length,
                 fmt::format("sequence_number {} outside 1 .. 0x7fffffff", pdu.sequence));
  pdu.body = read_body(r, *layout, pdu);
  if (!r.failed() && *layout != Layout::unread && r.left() != 0) {
    std::string text = fmt::format("{} octets left over after the body", r.left());
    if (is_request(pdu.command_id))
      r.fail(status::invalid_command_length, std::move(text));
    else
      r.note(std::move(text) + ": ignored");
  }
  if (r.failed()) return error(r.problem()->status, r.problem()->text);
  pdu.irregularity = r.irregularity();
  return pdu;
}

}  // namespace bh::connectors::sms::smpp
