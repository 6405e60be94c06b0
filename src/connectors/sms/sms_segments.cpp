#include "connectors/sms/sms_segments.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace bh::connectors::sms {

namespace {

// Units per SMS (140 octets) and per part of a concatenated SMS (the
// 6-octet UDH taken off; with SAR the SMSC adds it, so the same size).
constexpr std::size_t kGsmSingle = 160;
constexpr std::size_t kGsmPart = 153;
constexpr std::size_t kUcs2Single = 70;
constexpr std::size_t kUcs2Part = 67;
// The UDH counts total and sequence in one octet each.
constexpr int kMaxConcatenatedParts = 255;
// The message_payload TLV's length field is 16 bits.
constexpr std::uint32_t kMaxPayloadOctets = 0xFFFF;

constexpr std::uint8_t kEsmUdhi = 0x40;
constexpr std::uint8_t kIeiConcat8 = 0x00;
constexpr std::uint8_t kIeiConcat16 = 0x08;

std::size_t octets_per_unit(Alphabet alphabet) {
  return alphabet == Alphabet::ucs2 ? 2 : 1;
}

std::size_t single_units(Alphabet alphabet) {
  return alphabet == Alphabet::ucs2 ? kUcs2Single : kGsmSingle;
}

std::size_t part_units(Alphabet alphabet) {
  return alphabet == Alphabet::ucs2 ? kUcs2Part : kGsmPart;
}

int effective_parts(int max_parts) {
  return std::clamp(max_parts, 1, kMaxConcatenatedParts);
}

// What max_parts allow when the text is split by us (udh, sar).
std::size_t parts_limit(Alphabet alphabet, int max_parts) {
  int parts = effective_parts(max_parts);
  if (parts == 1) return single_units(alphabet);
  return static_cast<std::size_t>(parts) * part_units(alphabet);
}

std::size_t payload_limit(Alphabet alphabet, std::uint32_t max_payload_bytes) {
  return std::min(max_payload_bytes, kMaxPayloadOctets) / octets_per_unit(alphabet);
}

// Octets of the character that starts at octet `at`: an extension
// character is ESC and its septet, a character beyond the BMP a surrogate
// pair; neither is ever split between parts.
std::size_t character_octets(const EncodedText& text, std::size_t at) {
  const std::string& octets = text.octets;
  if (text.alphabet == Alphabet::gsm7) {
    bool escape = static_cast<std::uint8_t>(octets[at]) == kGsmEscape && at + 1 < octets.size();
    return escape ? 2 : 1;
  }
  if (at + 1 >= octets.size()) return octets.size() - at;  // an odd octet: kept whole
  auto high = static_cast<std::uint8_t>(octets[at]);
  bool surrogate_pair = high >= 0xD8 && high <= 0xDB && at + 3 < octets.size() &&
                        (static_cast<std::uint8_t>(octets[at + 2]) & 0xFC) == 0xDC;
  return surrogate_pair ? 4 : 2;
}

// The octet ranges of the parts, at most `limit` of them (one more means
// too many).
std::vector<std::string_view> cut_parts(const EncodedText& text, std::size_t octets_per_part,
                                        std::size_t limit) {
  std::vector<std::string_view> parts;
  std::string_view octets = text.octets;
  std::size_t start = 0;
  std::size_t end = 0;
  while (end < octets.size() && parts.size() <= limit) {
    std::size_t length = character_octets(text, end);
    if (end + length - start > octets_per_part) {
      parts.push_back(octets.substr(start, end - start));
      start = end;
    }
    end += length;
  }
  if (parts.size() <= limit) parts.push_back(octets.substr(start, end - start));
  return parts;
}

std::string how_many(Alphabet alphabet, LongMessages mode, int max_parts,
                     std::uint32_t max_payload_bytes) {
  std::size_t by_parts = parts_limit(alphabet, max_parts);
  if (mode == LongMessages::message_payload &&
      payload_limit(alphabet, max_payload_bytes) < by_parts)
    return fmt::format("the provider's limit of {} bytes", max_payload_bytes);
  int parts = effective_parts(max_parts);
  if (parts == 1) return "one message";
  return fmt::format("{} messages of {}", parts, part_units(alphabet));
}

std::string too_long_text(const EncodedText& text, std::size_t units, LongMessages mode,
                          int max_parts, std::uint32_t max_payload_bytes) {
  std::size_t gsm_max = max_units(Alphabet::gsm7, mode, max_parts, max_payload_bytes);
  std::size_t ucs2_max = max_units(Alphabet::ucs2, mode, max_parts, max_payload_bytes);
  std::string out;
  if (text.alphabet == Alphabet::gsm7) {
    out = fmt::format("The text is {} characters long", text.characters);
    if (units != text.characters)
      out += fmt::format(" ({} counting each of ^ {{ }} [ ] ~ \\ | \u20AC twice)", units);
    out += fmt::format(
        "; this SMS service sends at most {} characters ({}) in GSM 7-bit, or {} when it "
        "contains characters outside GSM 7-bit (UCS-2).",
        gsm_max, how_many(Alphabet::gsm7, mode, max_parts, max_payload_bytes), ucs2_max);
  } else {
    out = fmt::format("The text is {} characters long", text.characters);
    if (units != text.characters)
      out += fmt::format(" ({} counting each emoji and other rare character twice)", units);
    out += fmt::format(
        " and contains characters outside GSM 7-bit, so it is sent as UCS-2; this SMS service "
        "sends at most {} such characters ({}), or {} without them (GSM 7-bit).",
        ucs2_max, how_many(Alphabet::ucs2, mode, max_parts, max_payload_bytes), gsm_max);
  }
  if (units <= (text.alphabet == Alphabet::gsm7 ? gsm_max : ucs2_max))
    out +=
        " A character that counts twice is never split between two messages, so some hold "
        "one less and this text needs one message more.";
  return out;
}

void put_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xFF));
}

smpp::Tlv octet_tlv(std::uint16_t tag, std::uint8_t value) {
  return smpp::Tlv{tag, std::string(1, static_cast<char>(value))};
}

std::variant<Segments, TooLong> too_long(const EncodedText& text, std::size_t units,
                                         LongMessages mode, int max_parts,
                                         std::uint32_t max_payload_bytes) {
  TooLong result;
  result.units = units;
  result.max_units = max_units(text.alphabet, mode, max_parts, max_payload_bytes);
  result.text = too_long_text(text, units, mode, max_parts, max_payload_bytes);
  return result;
}

}  // namespace

std::size_t max_units(Alphabet alphabet, LongMessages mode, int max_parts,
                      std::uint32_t max_payload_bytes) {
  std::size_t by_parts = parts_limit(alphabet, max_parts);
  // message_payload: the SMSC splits, and max_parts still bounds what the
  // handset gets; the provider's payload limit may be lower.
  if (mode == LongMessages::message_payload)
    return std::min(by_parts,
                    std::max(single_units(alphabet), payload_limit(alphabet, max_payload_bytes)));
  return by_parts;
}

std::variant<Segments, TooLong> split_text(const EncodedText& text, LongMessages mode,
                                           int max_parts, std::uint32_t max_payload_bytes,
                                           std::uint16_t reference) {
  Segments segments;
  segments.data_coding = text.data_coding;
  std::size_t unit_octets = octets_per_unit(text.alphabet);
  std::size_t units = text.octets.size() / unit_octets;

  if (units <= single_units(text.alphabet)) {
    segments.parts.push_back(SegmentBody{text.octets, 0, {}});
    return segments;
  }
  if (mode == LongMessages::message_payload) {
    if (units > max_units(text.alphabet, mode, max_parts, max_payload_bytes))
      return too_long(text, units, mode, max_parts, max_payload_bytes);
    SegmentBody body;
    body.tlvs.push_back(smpp::Tlv{smpp::tlv::message_payload, text.octets});
    segments.parts.push_back(std::move(body));
    return segments;
  }

  auto limit = static_cast<std::size_t>(effective_parts(max_parts));
  if (limit == 1) return too_long(text, units, mode, max_parts, max_payload_bytes);
  std::vector<std::string_view> parts =
      cut_parts(text, part_units(text.alphabet) * unit_octets, limit);
  if (parts.size() > limit) return too_long(text, units, mode, max_parts, max_payload_bytes);

  auto total = static_cast<std::uint8_t>(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto sequence = static_cast<std::uint8_t>(i + 1);
    SegmentBody body;
    if (mode == LongMessages::udh) {
      body.esm_class = kEsmUdhi;
      body.short_message = {0x05,
                            kIeiConcat8,
                            0x03,
                            static_cast<char>(reference & 0xFF),
                            static_cast<char>(total),
                            static_cast<char>(sequence)};
    } else {
      std::string ref;
      put_u16(ref, reference);
      body.tlvs.push_back(smpp::Tlv{smpp::tlv::sar_msg_ref_num, std::move(ref)});
      body.tlvs.push_back(octet_tlv(smpp::tlv::sar_total_segments, total));
      body.tlvs.push_back(octet_tlv(smpp::tlv::sar_segment_seqnum, sequence));
    }
    body.short_message.append(parts[i]);
    segments.parts.push_back(std::move(body));
  }
  return segments;
}

namespace {

Result<PartInfo> checked(PartInfo info, const char* what) {
  if (info.total == 0 || info.sequence == 0 || info.sequence > info.total)
    return Error{fmt::format("{}: part {} of {}", what, info.sequence, info.total)};
  return info;
}

// The concatenation element of a UDH (the last one, as TS 23.040 9.2.3.24
// says of repeated elements); nullopt when it has none.
Result<std::optional<PartInfo>> read_udh(std::string_view udh) {
  std::optional<PartInfo> found;
  std::size_t at = 0;
  while (at < udh.size()) {
    if (udh.size() - at < 2) return Error{"UDH: an information element is cut off"};
    auto iei = static_cast<std::uint8_t>(udh[at]);
    auto length = static_cast<std::uint8_t>(udh[at + 1]);
    if (udh.size() - at - 2 < length)
      return Error{
          fmt::format("UDH: element 0x{:02X} of {} octets runs past the header", iei, length)};
    std::string_view value = udh.substr(at + 2, length);
    auto octet = [&](std::size_t i) { return static_cast<std::uint8_t>(value[i]); };
    if (iei == kIeiConcat8 || iei == kIeiConcat16) {
      std::size_t expected = iei == kIeiConcat8 ? 3 : 4;
      if (length != expected)
        return Error{fmt::format("UDH: concatenation element 0x{:02X} of {} octets", iei, length)};
      PartInfo info;
      std::size_t at_total = expected - 2;  // the reference takes one or two octets
      info.reference =
          iei == kIeiConcat8 ? octet(0) : static_cast<std::uint16_t>((octet(0) << 8) | octet(1));
      info.total = octet(at_total);
      info.sequence = octet(at_total + 1);
      Result<PartInfo> valid = checked(info, "UDH concatenation");
      if (!valid) return valid.error();
      found = *valid;
    }
    at += 2 + length;
  }
  return found;
}

// The sar_* TLVs: all three or none.
Result<std::optional<PartInfo>> read_sar(const std::vector<smpp::Tlv>& tlvs) {
  const smpp::Tlv* ref = smpp::find_tlv(tlvs, smpp::tlv::sar_msg_ref_num);
  const smpp::Tlv* total = smpp::find_tlv(tlvs, smpp::tlv::sar_total_segments);
  const smpp::Tlv* sequence = smpp::find_tlv(tlvs, smpp::tlv::sar_segment_seqnum);
  if (!ref && !total && !sequence) return std::optional<PartInfo>();
  if (!ref || !total || !sequence) return Error{"SAR: not all of the three sar_* TLVs"};
  if (ref->value.size() != 2 || total->value.size() != 1 || sequence->value.size() != 1)
    return Error{fmt::format("SAR: TLV sizes {}/{}/{}, not 2/1/1", ref->value.size(),
                             total->value.size(), sequence->value.size())};
  PartInfo info;
  info.reference = static_cast<std::uint16_t>((static_cast<std::uint8_t>(ref->value[0]) << 8) |
                                              static_cast<std::uint8_t>(ref->value[1]));
  info.total = static_cast<std::uint8_t>(total->value[0]);
  info.sequence = static_cast<std::uint8_t>(sequence->value[0]);
  Result<PartInfo> valid = checked(info, "SAR");
  if (!valid) return valid.error();
  return std::optional<PartInfo>(*valid);
}

}  // namespace

Result<IncomingPart> read_incoming_part(const smpp::ShortMessage& message) {
  IncomingPart incoming;
  std::string_view data = message.short_message;
  if (const smpp::Tlv* payload = smpp::find_tlv(message.tlvs, smpp::tlv::message_payload)) {
    if (!message.short_message.empty())
      return Error{"both short_message and message_payload carry data"};
    data = payload->value;
  }
  std::optional<PartInfo> part;
  if (message.esm_class & kEsmUdhi) {
    if (data.empty()) return Error{"UDH indicator set, but no user data"};
    std::size_t udh_length = static_cast<std::uint8_t>(data[0]);
    if (udh_length + 1 > data.size())
      return Error{fmt::format("UDH length {} runs past the {} octets of user data", udh_length,
                               data.size())};
    Result<std::optional<PartInfo>> udh = read_udh(data.substr(1, udh_length));
    if (!udh) return udh.error();
    part = *udh;
    data.remove_prefix(udh_length + 1);
  }
  if (!part) {
    Result<std::optional<PartInfo>> sar = read_sar(message.tlvs);
    if (!sar) return sar.error();
    part = *sar;
  }
  // A "concatenated" message of one part is a message on its own.
  if (part && part->total > 1) incoming.part = part;
  incoming.user_data.assign(data);
  return incoming;
}

}  // namespace bh::connectors::sms
