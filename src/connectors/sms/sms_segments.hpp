// Splitting an encoded text into the submit_sm bodies that carry it, and
// reading the concatenation info of an incoming part (TS 23.040 9.2.3.24.1
// and .8; SMPP sar_* TLVs). Pure.
//
// One SMS holds 140 octets: 160 GSM septets or 70 UCS-2 units. Longer:
// - udh: parts with the 6-octet UDH 05 00 03 <ref> <total> <seq>: 153 GSM
//   septets or 67 UCS-2 units each (esm_class 0x40);
// - sar: parts with sar_msg_ref_num (16-bit), sar_total_segments,
//   sar_segment_seqnum TLVs and no UDH: also 153 / 67 per part (what a
//   handset gets after the SMSC adds the UDH);
// - message_payload: one submit_sm, the text in the message_payload TLV,
//   sm_length 0, at most max_payload_bytes octets.
// A part never ends between ESC and its character or inside a surrogate
// pair, so a part may hold one unit less.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/sms_encoding.hpp"
#include "connectors/sms/sms_settings.hpp"

namespace bh::connectors::sms {

// What goes into one submit_sm for a part: short_message (with its UDH),
// esm_class bits to set (0x40 with a UDH) and TLVs (sar_*, message_payload).
struct SegmentBody {
  std::string short_message;
  std::uint8_t esm_class = 0;
  std::vector<smpp::Tlv> tlvs;
};

struct Segments {
  std::uint8_t data_coding = 0;
  std::vector<SegmentBody> parts;  // at least one (an empty text is one empty part)
};

// Too long for max_parts: how long the text may be, for the DSN ("at most
// 918 characters in GSM 7-bit" / "at most 402 characters with these
// characters (UCS-2)"; extension characters count twice in GSM).
struct TooLong {
  std::size_t units = 0;      // the text's
  std::size_t max_units = 0;  // what max_parts allow in its alphabet
  std::string text;           // the sentence for the DSN
};

// reference: the concatenation reference for this message (UDH: the low 8
// bits; SAR: 16 bits), chosen by the caller so that two long messages to
// one handset differ.
std::variant<Segments, TooLong> split_text(const EncodedText& text, LongMessages mode,
                                           int max_parts, std::uint32_t max_payload_bytes,
                                           std::uint16_t reference);

// The longest text in units that max_parts allow (for README and DSNs).
std::size_t max_units(Alphabet alphabet, LongMessages mode, int max_parts,
                      std::uint32_t max_payload_bytes);

// An incoming deliver_sm's place in a concatenated message, read from its
// UDH (IEI 0x00 with an 8-bit reference or 0x08 with 16 bits; with
// esm_class 0x40) or from its sar_* TLVs. Other information elements in
// the UDH are skipped.
struct PartInfo {
  std::uint16_t reference = 0;
  std::uint8_t total = 1;
  std::uint8_t sequence = 1;  // 1-based
};
struct IncomingPart {
  std::optional<PartInfo> part;  // nullopt: a complete message on its own
  std::string user_data;         // short_message without the UDH (or message_payload's value)
  // For GSM 7-bit after a UDH: SMPP carries septets unpacked, so no fill
  // bits apply; kept for SMSCs that send packed data (unused: 0).
  int fill_bits = 0;
};
// An error: the UDH's length runs past the data, or a concatenation
// element is malformed (total 0, sequence 0 or above total).
Result<IncomingPart> read_incoming_part(const smpp::ShortMessage& message);

}  // namespace bh::connectors::sms
