// Text forms of SMPP PDUs and session events for the session machine's
// golden transcripts (smpp_session_test.cpp, transcripts/*.txt). A PDU is
// a line "name seq=N status=S field=value ...": the status only on
// responses (or when not 0), fields only when not their default; values
// with spaces or unusual octets are quoted with \" \\ \xHH escapes. An
// address is "ton/npi/digits". The same form is parsed back for the lines
// the SMSC sends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/smpp_session.hpp"

namespace bh::test::smpp_text {

using namespace bh::connectors::sms::smpp;

inline std::string quote(std::string_view value) {
  bool bare = !value.empty();
  for (unsigned char c : value)
    if (c <= ' ' || c >= 127 || c == '"' || c == '\\') bare = false;
  if (bare) return std::string(value);
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", static_cast<char>(c));
    else if (c < ' ' || c >= 127)
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  return out + "\"";
}

struct Field {
  std::string key;
  std::string value;
};

// "key=value key="quoted value" word": a word without '=' has an empty value.
inline std::optional<std::vector<Field>> parse_fields(std::string_view text) {
  std::vector<Field> fields;
  std::size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    Field field;
    while (i < text.size() && text[i] != ' ' && text[i] != '=') field.key.push_back(text[i++]);
    if (i < text.size() && text[i] == '=') {
      ++i;
      if (i < text.size() && text[i] == '"') {
        ++i;
        bool closed = false;
        while (i < text.size()) {
          char c = text[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c != '\\') {
            field.value.push_back(c);
            continue;
          }
          if (i >= text.size()) return std::nullopt;
          char e = text[i++];
          if (e == 'x') {
            if (i + 2 > text.size() || hex(text[i]) < 0 || hex(text[i + 1]) < 0)
              return std::nullopt;
            field.value.push_back(static_cast<char>(hex(text[i]) * 16 + hex(text[i + 1])));
            i += 2;
          } else {
            field.value.push_back(e);
          }
        }
        if (!closed) return std::nullopt;
      } else {
        while (i < text.size() && text[i] != ' ') field.value.push_back(text[i++]);
      }
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

inline std::string command_text(std::uint32_t id) {
  std::string name = command_name(id);
  return name.empty() ? fmt::format("0x{:08x}", id) : name;
}

inline std::optional<std::uint32_t> parse_command(std::string_view name) {
  for (std::uint32_t id = 0; id < 0x200; ++id) {
    if (command_text(id) == name) return id;
    if (command_text(id | command::response_bit) == name) return id | command::response_bit;
  }
  if (name.starts_with("0x")) return std::stoul(std::string(name.substr(2)), nullptr, 16);
  return std::nullopt;
}

// "0", "ESME_RTHROTTLED", "0x00000123".
inline std::string status_text(std::uint32_t status) {
  if (status == status::ok) return "0";
  std::string name = status_name(status);
  return name.substr(0, name.find(' '));
}

inline std::optional<std::uint32_t> parse_status(std::string_view text) {
  if (text == "0") return status::ok;
  if (text.starts_with("0x")) return std::stoul(std::string(text.substr(2)), nullptr, 16);
  for (std::uint32_t s = 0; s < 0x400; ++s)
    if (status_text(s) == text) return s;
  return std::nullopt;
}

inline std::string address_text(const SmeAddress& a) {
  return fmt::format("{}/{}/{}", a.ton, a.npi, quote(a.address));
}

inline std::optional<SmeAddress> parse_address(const std::string& text) {
  auto first = text.find('/');
  auto second = first == std::string::npos ? first : text.find('/', first + 1);
  if (second == std::string::npos) return std::nullopt;
  SmeAddress a;
  a.ton = static_cast<std::uint8_t>(std::stoul(text.substr(0, first)));
  a.npi = static_cast<std::uint8_t>(std::stoul(text.substr(first + 1, second - first - 1)));
  a.address = text.substr(second + 1);
  return a;
}

inline std::string hex_text(std::string_view octets) {
  std::string out;
  for (unsigned char c : octets) out += fmt::format("{:02x}", c);
  return out;
}

inline std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoul(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

inline void append_tlvs(std::string& out, const std::vector<Tlv>& tlvs) {
  for (const auto& t : tlvs) out += fmt::format(" tlv:{:04x}={}", t.tag, hex_text(t.value));
}

inline std::string message_text(const ShortMessage& m) {
  std::string out;
  auto number = [&](const char* key, unsigned value) {
    if (value != 0) out += fmt::format(" {}=0x{:02x}", key, value);
  };
  auto text = [&](const char* key, const std::string& value) {
    if (!value.empty()) out += fmt::format(" {}={}", key, quote(value));
  };
  text("service_type", m.service_type);
  out += " src=" + address_text(m.source) + " dst=" + address_text(m.destination);
  number("esm_class", m.esm_class);
  number("protocol_id", m.protocol_id);
  number("priority", m.priority_flag);
  text("schedule", m.schedule_delivery_time);
  text("validity", m.validity_period);
  number("registered_delivery", m.registered_delivery);
  number("replace_if_present", m.replace_if_present);
  number("data_coding", m.data_coding);
  number("sm_default_msg_id", m.sm_default_msg_id);
  out += " text=" + quote(m.short_message);
  append_tlvs(out, m.tlvs);
  return out;
}

inline std::string pdu_text(const Pdu& pdu) {
  std::string out = fmt::format("{} seq={}", command_text(pdu.command_id), pdu.sequence);
  if ((pdu.command_id & command::response_bit) != 0 || pdu.command_status != 0)
    out += " status=" + status_text(pdu.command_status);
  if (const auto* b = std::get_if<Bind>(&pdu.body)) {
    out += " system_id=" + quote(b->system_id) + " password=" + quote(b->password);
    if (!b->system_type.empty()) out += " system_type=" + quote(b->system_type);
    if (b->interface_version != 0x34) out += fmt::format(" version=0x{:02x}", b->interface_version);
    const SmeAddress& range = b->address_range;
    if (range.ton != 0 || range.npi != 0 || !range.address.empty())
      out += " range=" + address_text(range);
  } else if (const auto* r = std::get_if<BindResponse>(&pdu.body)) {
    if (!r->system_id.empty()) out += " system_id=" + quote(r->system_id);
    append_tlvs(out, r->tlvs);
  } else if (const auto* m = std::get_if<ShortMessage>(&pdu.body)) {
    out += message_text(*m);
  } else if (const auto* id = std::get_if<MessageIdResponse>(&pdu.body)) {
    if (!id->message_id.empty()) out += " message_id=" + quote(id->message_id);
  }
  return out;
}

// Fills a ShortMessage field; false for a key it does not know.
inline bool set_message_field(ShortMessage& m, const Field& f) {
  auto byte = [&] { return static_cast<std::uint8_t>(std::stoul(f.value, nullptr, 0)); };
  if (f.key == "service_type")
    m.service_type = f.value;
  else if (f.key == "src" || f.key == "dst") {
    auto address = parse_address(f.value);
    if (!address) return false;
    (f.key == "src" ? m.source : m.destination) = *address;
  } else if (f.key == "esm_class")
    m.esm_class = byte();
  else if (f.key == "protocol_id")
    m.protocol_id = byte();
  else if (f.key == "priority")
    m.priority_flag = byte();
  else if (f.key == "schedule")
    m.schedule_delivery_time = f.value;
  else if (f.key == "validity")
    m.validity_period = f.value;
  else if (f.key == "registered_delivery")
    m.registered_delivery = byte();
  else if (f.key == "replace_if_present")
    m.replace_if_present = byte();
  else if (f.key == "data_coding")
    m.data_coding = byte();
  else if (f.key == "sm_default_msg_id")
    m.sm_default_msg_id = byte();
  else if (f.key == "text")
    m.short_message = f.value;
  else if (f.key.starts_with("tlv:"))
    m.tlvs.push_back(
        Tlv{static_cast<std::uint16_t>(std::stoul(f.key.substr(4), nullptr, 16)), unhex(f.value)});
  else
    return false;
  return true;
}

// The PDU a "<" line describes; an error names what was not understood.
inline Result<Pdu> parse_pdu(std::string_view line) {
  auto fields = parse_fields(line);
  if (!fields || fields->empty()) return Error{"unparsable PDU line"};
  auto id = parse_command((*fields)[0].key);
  if (!id) return Error{"unknown command " + (*fields)[0].key};
  Pdu pdu;
  pdu.command_id = *id;
  Bind bind;
  BindResponse bind_response;
  ShortMessage message;
  MessageIdResponse message_id;
  bool has_body = false;
  const std::uint32_t request = *id & ~command::response_bit;
  const bool response = (*id & command::response_bit) != 0;
  for (std::size_t i = 1; i < fields->size(); ++i) {
    const Field& f = (*fields)[i];
    if (f.key == "seq") {
      pdu.sequence = static_cast<std::uint32_t>(std::stoul(f.value, nullptr, 0));
      continue;
    }
    if (f.key == "status") {
      auto status = parse_status(f.value);
      if (!status) return Error{"unknown status " + f.value};
      pdu.command_status = *status;
      continue;
    }
    has_body = true;
    bool known = true;
    if (*id == command::submit_sm || *id == command::deliver_sm)
      known = set_message_field(message, f);
    else if (!response && f.key == "system_id")
      bind.system_id = f.value;
    else if (!response && f.key == "password")
      bind.password = f.value;
    else if (!response && f.key == "system_type")
      bind.system_type = f.value;
    else if (response && f.key == "system_id")
      bind_response.system_id = f.value;
    else if (response && f.key == "message_id")
      message_id.message_id = f.value;
    else
      known = false;
    if (!known) return Error{"field not understood: " + f.key};
  }
  const bool is_bind = request == command::bind_transceiver || request == command::bind_receiver ||
                       request == command::bind_transmitter;
  if (*id == command::submit_sm || *id == command::deliver_sm)
    pdu.body = message;
  else if (is_bind && !response)
    pdu.body = bind;
  else if (is_bind && (has_body || pdu.command_status == 0))
    pdu.body = bind_response;
  else if ((*id == (command::submit_sm | command::response_bit) ||
            *id == (command::deliver_sm | command::response_bit)) &&
           (has_body || pdu.command_status == 0))
    pdu.body = message_id;
  return pdu;
}

inline std::string event_text(const SessionEvent& event) {
  if (const auto* e = std::get_if<Bound>(&event)) return "Bound smsc=" + quote(e->smsc_system_id);
  if (const auto* e = std::get_if<BindFailed>(&event))
    return fmt::format("BindFailed status={} text={}", status_text(e->status), quote(e->text));
  if (const auto* e = std::get_if<SubmitAnswered>(&event)) {
    std::string out =
        fmt::format("SubmitAnswered token={} status={}", e->token, status_text(e->status));
    if (!e->message_id.empty()) out += " message_id=" + quote(e->message_id);
    if (e->late) out += " late";
    return out;
  }
  if (const auto* e = std::get_if<SubmitLost>(&event))
    return fmt::format("SubmitLost token={} text={}{}", e->token, quote(e->text),
                       e->timed_out ? " timed_out" : "");
  if (const auto* e = std::get_if<Delivered>(&event))
    return fmt::format("Delivered seq={}{}", e->sequence, message_text(e->message));
  if (const auto* e = std::get_if<ProtocolProblem>(&event))
    return "ProtocolProblem " + quote(e->text);
  return "Closed " + quote(std::get<Closed>(event).reason);
}

}  // namespace bh::test::smpp_text
