// The SMPP encoder: encode(), strict (a field over its maximum is an error).
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/smpp_pdu_fields.hpp"
#include "connectors/sms/smpp_pdu_internal.hpp"

namespace bh::connectors::sms::smpp {

namespace {

using namespace fields;

void write_short_message(Writer& w, const ShortMessage& m) {
  w.cstring("service_type", m.service_type, kServiceType);
  w.address("source_addr", m.source, kAddress);
  w.address("destination_addr", m.destination, kAddress);
  w.u8(m.esm_class);
  w.u8(m.protocol_id);
  w.u8(m.priority_flag);
  w.time("schedule_delivery_time", m.schedule_delivery_time);
  w.time("validity_period", m.validity_period);
  w.u8(m.registered_delivery);
  w.u8(m.replace_if_present);
  w.u8(m.data_coding);
  w.u8(m.sm_default_msg_id);
  if (m.short_message.size() > kShortMessage)
    w.fail(fmt::format("short_message: {} octets > {}", m.short_message.size(), kShortMessage));
  w.u8(static_cast<std::uint8_t>(std::min(m.short_message.size(), kShortMessage)));
  w.raw(m.short_message.substr(0, kShortMessage));
  w.tlvs(m.tlvs);
  if (auto p = check_message_fields(m)) w.fail(p->text);
}

const char* body_name(const Body& body) {
  static constexpr const char* names[] = {"Empty", "Bind", "BindResponse", "ShortMessage",
                                          "MessageIdResponse"};
  return names[body.index()];
}

void write_body(Writer& w, const Pdu& pdu, Layout layout) {
  auto wrong = [&] {
    w.fail(fmt::format("command_id 0x{:08x} with a {} body", pdu.command_id, body_name(pdu.body)));
  };
  const bool empty = std::holds_alternative<Empty>(pdu.body);
  switch (layout) {
    case Layout::empty:
    case Layout::unread:
      if (!empty) wrong();
      return;
    case Layout::bind:
      if (const auto* b = std::get_if<Bind>(&pdu.body)) {
        w.cstring("system_id", b->system_id, kSystemId);
        w.cstring("password", b->password, kPassword);
        w.cstring("system_type", b->system_type, kSystemType);
        w.u8(b->interface_version);
        w.address("address_range", b->address_range, kAddressRange);
      } else {
        wrong();
      }
      return;
    case Layout::bind_resp:
      // Empty: header only for an error, else the default body.
      if (empty && pdu.command_status != status::ok) return;
      if (const auto* b = std::get_if<BindResponse>(&pdu.body)) {
        w.cstring("system_id", b->system_id, kSystemId);
        w.tlvs(b->tlvs);
      } else if (empty) {
        w.cstring("system_id", "", kSystemId);
      } else {
        wrong();
      }
      return;
    case Layout::short_message:
      if (const auto* m = std::get_if<ShortMessage>(&pdu.body))
        write_short_message(w, *m);
      else
        wrong();
      return;
    case Layout::message_id:
    case Layout::deliver_resp: {
      if (empty && pdu.command_status != status::ok) return;
      const auto* m = std::get_if<MessageIdResponse>(&pdu.body);
      if (!m && !empty) {
        wrong();
        return;
      }
      std::string id = m ? m->message_id : std::string();
      w.cstring("message_id", id, layout == Layout::deliver_resp ? 0 : kMessageId);
      return;
    }
  }
}

}  // namespace

Result<std::string> encode(const Pdu& pdu) {
  auto layout = layout_of(pdu.command_id);
  if (!layout)
    return Error{fmt::format("SMPP encode: unknown command_id 0x{:08x}", pdu.command_id)};
  if (is_request(pdu.command_id) && !valid_sequence(pdu.sequence))
    return Error{
        fmt::format("SMPP encode: sequence_number {} outside 1 .. 0x7fffffff", pdu.sequence)};
  Writer w;
  w.u32(0);  // command_length, filled in below
  w.u32(pdu.command_id);
  w.u32(pdu.command_status);
  w.u32(pdu.sequence);
  write_body(w, pdu, *layout);
  if (w.error()) return Error{"SMPP encode: " + *w.error()};
  std::string& out = w.bytes();
  if (out.size() > kMaxPduSize)
    return Error{fmt::format("SMPP encode: PDU of {} octets > {}", out.size(), kMaxPduSize)};
  auto length = static_cast<std::uint32_t>(out.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(length >> (24 - 8 * i));
  return std::move(out);
}

}  // namespace bh::connectors::sms::smpp
