#include "connectors/sms/smpp_pdu.hpp"

#include <utility>

#include <fmt/format.h>

#include "connectors/sms/smpp_pdu_fields.hpp"

namespace bh::connectors::sms::smpp {

namespace {

using namespace fields;

constexpr std::uint32_t kMaxSequence = 0x7FFFFFFF;  // spec 3.2: 1 .. 0x7FFFFFFF

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

bool is_request(std::uint32_t id) {
  return (id & command::response_bit) == 0;
}

// Commands that have no _resp of their own (a problem with one is answered
// with generic_nack).
bool has_response(std::uint32_t id) {
  return is_request(id) && layout_of(id) && id != command::outbind &&
         id != command::alert_notification;
}

bool valid_sequence(std::uint32_t sequence) {
  return sequence >= 1 && sequence <= kMaxSequence;
}

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

struct StatusName {
  std::uint32_t status;
  const char* name;
};

constexpr StatusName kStatusNames[] = {
    {status::ok, "ESME_ROK"},
    {status::invalid_message_length, "ESME_RINVMSGLEN"},
    {status::invalid_command_length, "ESME_RINVCMDLEN"},
    {status::invalid_command_id, "ESME_RINVCMDID"},
    {status::invalid_bind_status, "ESME_RINVBNDSTS"},
    {status::already_bound, "ESME_RALYBND"},
    {status::system_error, "ESME_RSYSERR"},
    {status::invalid_source_address, "ESME_RINVSRCADR"},
    {status::invalid_dest_address, "ESME_RINVDSTADR"},
    {status::invalid_message_id, "ESME_RINVMSGID"},
    {status::bind_failed, "ESME_RBINDFAIL"},
    {status::invalid_password, "ESME_RINVPASWD"},
    {status::invalid_system_id, "ESME_RINVSYSID"},
    {status::message_queue_full, "ESME_RMSGQFUL"},
    {status::invalid_service_type, "ESME_RINVSERTYP"},
    {status::invalid_esm_class, "ESME_RINVESMCLASS"},
    {status::submit_failed, "ESME_RSUBMITFAIL"},
    {status::invalid_system_type, "ESME_RINVSYSTYP"},
    {status::throttled, "ESME_RTHROTTLED"},
    {status::invalid_schedule_time, "ESME_RINVSCHED"},
    {status::invalid_validity_period, "ESME_RINVEXPIRY"},
    {status::temporary_app_error, "ESME_RX_T_APPN"},
    {status::permanent_app_error, "ESME_RX_P_APPN"},
    {status::reject_message, "ESME_RX_R_APPN"},
    {status::invalid_optional_parameter, "ESME_RINVOPTPARSTREAM"},
    {status::invalid_parameter_length, "ESME_RINVPARLEN"},
    {status::unknown_error, "ESME_RUNKNOWNERR"},
};

}  // namespace

std::string command_name(std::uint32_t id) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
      {command::bind_receiver, "bind_receiver"},
      {command::bind_transmitter, "bind_transmitter"},
      {command::query_sm, "query_sm"},
      {command::submit_sm, "submit_sm"},
      {command::deliver_sm, "deliver_sm"},
      {command::unbind, "unbind"},
      {command::replace_sm, "replace_sm"},
      {command::cancel_sm, "cancel_sm"},
      {command::bind_transceiver, "bind_transceiver"},
      {command::outbind, "outbind"},
      {command::enquire_link, "enquire_link"},
      {command::submit_multi, "submit_multi"},
      {command::alert_notification, "alert_notification"},
      {command::data_sm, "data_sm"},
  };
  if (id == command::generic_nack) return "generic_nack";
  for (const auto& [request, name] : kNames) {
    if (id == request) return name;
    if (id == (request | command::response_bit)) return std::string(name) + "_resp";
  }
  return {};
}

std::string status_name(std::uint32_t value) {
  for (const auto& entry : kStatusNames)
    if (entry.status == value) return fmt::format("{} (0x{:08x})", entry.name, value);
  return fmt::format("0x{:08x}", value);
}

const Tlv* find_tlv(const std::vector<Tlv>& tlvs, std::uint16_t tag) {
  for (const auto& t : tlvs)
    if (t.tag == tag) return &t;
  return nullptr;
}

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
