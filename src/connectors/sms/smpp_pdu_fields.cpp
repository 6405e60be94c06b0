#include "connectors/sms/smpp_pdu_fields.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace bh::connectors::sms::smpp::fields {

std::optional<Problem> check_tlv(const Tlv& tlv) {
  auto fixed = [&](std::size_t size) -> std::optional<Problem> {
    if (tlv.value.size() == size) return std::nullopt;
    return Problem{status::invalid_parameter_length,
                   fmt::format("TLV 0x{:04x}: length {} where the spec says {}", tlv.tag,
                               tlv.value.size(), size)};
  };
  switch (tlv.tag) {
    case tlv::sar_msg_ref_num:
      return fixed(2);
    case tlv::sar_total_segments:
    case tlv::sar_segment_seqnum:
    case tlv::sc_interface_version:
    case tlv::message_state:
      return fixed(1);
    case tlv::network_error_code:
      return fixed(3);
    case tlv::receipted_message_id: {
      // A C-octet string of at most 65 octets. Some SMSCs leave out the
      // NUL; a NUL anywhere but at the end is refused.
      std::size_t nul = tlv.value.find('\0');
      if (tlv.value.empty() || tlv.value.size() > kMessageId + 1 ||
          (nul != std::string::npos && nul + 1 != tlv.value.size()))
        return Problem{status::invalid_parameter_length,
                       fmt::format("TLV receipted_message_id: {} octets, not a C-octet string "
                                   "of at most {}",
                                   tlv.value.size(), kMessageId + 1)};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<Problem> check_message_fields(const ShortMessage& m) {
  // Spec 5.3.2.32: with message_payload, short_message is empty (sm_length 0).
  if (!m.short_message.empty() && find_tlv(m.tlvs, tlv::message_payload))
    return Problem{status::invalid_message_length,
                   fmt::format("short_message of {} octets and a message_payload TLV",
                               m.short_message.size())};
  return std::nullopt;
}
void Reader::fail(std::uint32_t status, std::string text) {
  if (!problem_) problem_ = Problem{status, std::move(text)};
}

bool Reader::need(std::size_t n, std::string_view field) {
  if (failed()) return false;
  if (left() >= n) return true;
  fail(status::invalid_command_length, fmt::format("{}: past the end of the PDU", field));
  return false;
}

std::uint8_t Reader::u8(std::string_view field) {
  if (!need(1, field)) return 0;
  return bytes_[pos_++];
}

std::uint16_t Reader::u16(std::string_view field) {
  if (!need(2, field)) return 0;
  auto v = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t Reader::u32(std::string_view field) {
  if (!need(4, field)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | bytes_[pos_++];
  return v;
}

std::string Reader::octets(std::size_t n) {
  std::string out(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
  pos_ += n;
  return out;
}

std::string Reader::cstring(std::string_view field, std::size_t max, std::uint32_t too_long) {
  if (failed()) return {};
  std::size_t limit = std::min(left(), max + 1);
  for (std::size_t i = 0; i < limit; ++i) {
    if (bytes_[pos_ + i] == 0) {
      std::string out = octets(i);
      ++pos_;
      return out;
    }
  }
  if (left() > max)
    fail(too_long, fmt::format("{}: longer than {} characters", field, max));
  else
    fail(status::invalid_command_length,
         fmt::format("{}: no NUL before the end of the PDU", field));
  return {};
}

std::string Reader::loose_cstring(std::string_view field, std::size_t max) {
  if (failed()) return {};
  std::size_t n = 0;
  while (n < left() && bytes_[pos_ + n] != 0) ++n;
  const bool terminated = n < left();
  std::string value = octets(n);
  if (terminated)
    ++pos_;
  else
    note(fmt::format("{}: no NUL before the end of the PDU", field));
  if (value.size() > kLooseString) {
    note(fmt::format("{}: {} octets, over {}: dropped", field, value.size(), kLooseString));
    value.clear();
  } else if (value.size() > max) {
    note(fmt::format("{}: {} characters, over the spec's {}: kept", field, value.size(), max));
  }
  return value;
}

SmeAddress Reader::address(std::string_view field, std::size_t max, std::uint32_t too_long) {
  SmeAddress a;
  a.ton = u8(field);
  a.npi = u8(field);
  a.address = cstring(field, max, too_long);
  return a;
}

std::string Reader::time(std::string_view field, std::uint32_t bad) {
  std::string value = cstring(field, kTime, bad);
  if (!failed() && !value.empty() && value.size() != kTime)
    fail(bad, fmt::format("{}: {} characters, not empty or {}", field, value.size(), kTime));
  return value;
}

std::vector<Tlv> Reader::tlvs(TlvRead mode) {
  std::vector<Tlv> out;
  // A TLV that does not fit: a failure, or (loose) the end of the list.
  auto misfit = [&](std::string text) {
    if (mode != TlvRead::loose) return fail(status::invalid_optional_parameter, std::move(text));
    note(text + ": the rest ignored");
    pos_ = bytes_.size();
  };
  while (!failed() && left() > 0) {
    if (left() < 4) {
      misfit(fmt::format("TLV: {} octets left, shorter than a TLV header", left()));
      break;
    }
    Tlv t;
    t.tag = u16("TLV tag");
    std::uint16_t length = u16("TLV length");
    if (length > left()) {
      misfit(fmt::format("TLV 0x{:04x}: length {} beyond the end of the PDU ({} left)", t.tag,
                         length, left()));
      break;
    }
    t.value = octets(length);
    if (auto p = check_tlv(t)) {
      if (mode == TlvRead::strict) {
        fail(p->status, p->text);
        break;
      }
      note(p->text + ": kept raw");
    }
    out.push_back(std::move(t));
  }
  return out;
}

void Writer::u16(std::uint16_t v) {
  u8(static_cast<std::uint8_t>(v >> 8));
  u8(static_cast<std::uint8_t>(v));
}

void Writer::u32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
}

void Writer::cstring(std::string_view field, const std::string& value, std::size_t max) {
  if (value.size() > max)
    fail(fmt::format("{}: {} characters > {}", field, value.size(), max));
  else if (value.find('\0') != std::string::npos)
    fail(fmt::format("{}: contains a NUL", field));
  out_ += value;
  u8(0);
}

void Writer::address(std::string_view field, const SmeAddress& a, std::size_t max) {
  u8(a.ton);
  u8(a.npi);
  cstring(field, a.address, max);
}

void Writer::time(std::string_view field, const std::string& value) {
  if (!value.empty() && value.size() != kTime)
    fail(fmt::format("{}: {} characters, not empty or {}", field, value.size(), kTime));
  cstring(field, value, kTime);
}

void Writer::tlvs(const std::vector<Tlv>& tlvs) {
  for (const auto& t : tlvs) {
    if (t.value.size() > 0xFFFF) {
      fail(fmt::format("TLV 0x{:04x}: {} octets > 65535", t.tag, t.value.size()));
      continue;
    }
    if (auto p = check_tlv(t)) fail(p->text);
    u16(t.tag);
    u16(static_cast<std::uint16_t>(t.value.size()));
    out_ += t.value;
  }
}

}  // namespace bh::connectors::sms::smpp::fields
