// SMPP 3.4 PDUs (spec "SMPP v3.4 Issue 1.2"): the binary codec, pure.
// A PDU is a 16-octet big-endian header (command_length, command_id,
// command_status, sequence_number) and a body of C-octet strings,
// integers and, for some PDUs, TLVs. The decoder is the one place that
// reads SMSC bytes: it checks every length against the spec's maxima and
// the frame, and refuses what the spec does not allow in a request instead
// of passing it through. Responses, and the TLV sizes of a deliver_sm, are
// read leniently (see decode()): refusing an odd answer to a submit_sm
// would lose the answer and send the SMS twice. What we encode is always
// strict. Fuzzed (fuzz/smpp_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace bh::connectors::sms::smpp {

namespace command {
inline constexpr std::uint32_t generic_nack = 0x80000000;
inline constexpr std::uint32_t bind_receiver = 0x00000001;
inline constexpr std::uint32_t bind_transmitter = 0x00000002;
inline constexpr std::uint32_t query_sm = 0x00000003;
inline constexpr std::uint32_t submit_sm = 0x00000004;
inline constexpr std::uint32_t deliver_sm = 0x00000005;
inline constexpr std::uint32_t unbind = 0x00000006;
inline constexpr std::uint32_t replace_sm = 0x00000007;
inline constexpr std::uint32_t cancel_sm = 0x00000008;
inline constexpr std::uint32_t bind_transceiver = 0x00000009;
inline constexpr std::uint32_t outbind = 0x0000000B;
inline constexpr std::uint32_t enquire_link = 0x00000015;
inline constexpr std::uint32_t submit_multi = 0x00000021;
inline constexpr std::uint32_t alert_notification = 0x00000102;
inline constexpr std::uint32_t data_sm = 0x00000103;
inline constexpr std::uint32_t response_bit = 0x80000000;  // X_resp = X | response_bit
}  // namespace command

// command_status values (spec 5.1.3) Bridgehead names.
namespace status {
inline constexpr std::uint32_t ok = 0x00;
inline constexpr std::uint32_t invalid_message_length = 0x01;      // ESME_RINVMSGLEN
inline constexpr std::uint32_t invalid_command_length = 0x02;      // ESME_RINVCMDLEN
inline constexpr std::uint32_t invalid_command_id = 0x03;          // ESME_RINVCMDID
inline constexpr std::uint32_t invalid_bind_status = 0x04;         // ESME_RINVBNDSTS
inline constexpr std::uint32_t already_bound = 0x05;               // ESME_RALYBND
inline constexpr std::uint32_t system_error = 0x08;                // ESME_RSYSERR
inline constexpr std::uint32_t invalid_source_address = 0x0A;      // ESME_RINVSRCADR
inline constexpr std::uint32_t invalid_dest_address = 0x0B;        // ESME_RINVDSTADR
inline constexpr std::uint32_t invalid_message_id = 0x0C;          // ESME_RINVMSGID
inline constexpr std::uint32_t bind_failed = 0x0D;                 // ESME_RBINDFAIL
inline constexpr std::uint32_t invalid_password = 0x0E;            // ESME_RINVPASWD
inline constexpr std::uint32_t invalid_system_id = 0x0F;           // ESME_RINVSYSID
inline constexpr std::uint32_t message_queue_full = 0x14;          // ESME_RMSGQFUL
inline constexpr std::uint32_t invalid_service_type = 0x15;        // ESME_RINVSERTYP
inline constexpr std::uint32_t invalid_esm_class = 0x43;           // ESME_RINVESMCLASS
inline constexpr std::uint32_t submit_failed = 0x45;               // ESME_RSUBMITFAIL
inline constexpr std::uint32_t invalid_system_type = 0x53;         // ESME_RINVSYSTYP
inline constexpr std::uint32_t throttled = 0x58;                   // ESME_RTHROTTLED
inline constexpr std::uint32_t invalid_schedule_time = 0x61;       // ESME_RINVSCHED
inline constexpr std::uint32_t invalid_validity_period = 0x62;     // ESME_RINVEXPIRY
inline constexpr std::uint32_t temporary_app_error = 0x64;         // ESME_RX_T_APPN: SMSC retries
inline constexpr std::uint32_t permanent_app_error = 0x65;         // ESME_RX_P_APPN: SMSC gives up
inline constexpr std::uint32_t reject_message = 0x66;              // ESME_RX_R_APPN
inline constexpr std::uint32_t invalid_optional_parameter = 0xC0;  // ESME_RINVOPTPARSTREAM
inline constexpr std::uint32_t invalid_parameter_length = 0xC2;    // ESME_RINVPARLEN
inline constexpr std::uint32_t unknown_error = 0xFF;               // ESME_RUNKNOWNERR
}  // namespace status

// "ESME_RTHROTTLED (0x00000058)", "0x00000123" for one without a name.
std::string status_name(std::uint32_t status);

// "submit_sm", "submit_sm_resp", "generic_nack"; "" for a command id the
// spec does not name (callers write it in hex as suits their text).
std::string command_name(std::uint32_t id);

// TLV tags (spec 5.3.2) Bridgehead reads or writes.
namespace tlv {
inline constexpr std::uint16_t receipted_message_id = 0x001E;
inline constexpr std::uint16_t sar_msg_ref_num = 0x020C;
inline constexpr std::uint16_t sar_total_segments = 0x020E;
inline constexpr std::uint16_t sar_segment_seqnum = 0x020F;
inline constexpr std::uint16_t sc_interface_version = 0x0210;
inline constexpr std::uint16_t network_error_code = 0x0423;
inline constexpr std::uint16_t message_payload = 0x0424;
inline constexpr std::uint16_t message_state = 0x0427;
}  // namespace tlv

inline constexpr std::size_t kHeaderSize = 16;
// The largest PDU accepted or written: a message_payload of 64 KiB and
// the fields around it. A frame that says it is longer is refused unread.
inline constexpr std::size_t kMaxPduSize = 65536 + 1024;

struct Tlv {
  std::uint16_t tag = 0;
  std::string value;  // raw octets
  bool operator==(const Tlv&) const = default;
};

// Also TON/NPI (spec 5.2.5, 5.2.6): international E.164 is 1/1 with the
// digits without '+'; alphanumeric 5/0.
struct SmeAddress {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string address;  // at most 20 characters (bind's address_range: 40)
  bool operator==(const SmeAddress&) const = default;
};

// bind_transmitter, bind_receiver, bind_transceiver (spec 4.1).
struct Bind {
  std::string system_id;    // at most 15
  std::string password;     // at most 8
  std::string system_type;  // at most 12
  std::uint8_t interface_version = 0x34;
  SmeAddress address_range;  // address at most 40
  bool operator==(const Bind&) const = default;
};

// bind_*_resp (spec 4.1.2): the SMSC's system_id; TLV sc_interface_version.
struct BindResponse {
  std::string system_id;  // at most 15
  std::vector<Tlv> tlvs;
  bool operator==(const BindResponse&) const = default;
};

// submit_sm (spec 4.4.1) and deliver_sm (4.6.1) share this layout; in a
// deliver_sm schedule_delivery_time, validity_period, replace_if_present
// and sm_default_msg_id are unused (written empty or 0).
struct ShortMessage {
  std::string service_type;  // at most 5
  SmeAddress source;
  SmeAddress destination;
  std::uint8_t esm_class = 0;  // 0x40: UDHI (short_message starts with a UDH); 0x04: receipt
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;  // empty or 16 characters (spec 7.1)
  std::string validity_period;         // empty or 16 characters
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;  // at most 254 octets (sm_length); raw octets
  std::vector<Tlv> tlvs;
  bool operator==(const ShortMessage&) const = default;
};

// submit_sm_resp and deliver_sm_resp: message_id (at most 64 characters,
// empty in deliver_sm_resp). An error response may have no body at all
// (spec 4.4.2): decoded as an empty id. Decoded, a status 0 response may
// have an empty id too (no body, or one too long to keep: see decode()).
// (data_sm_resp decodes as Empty.)
struct MessageIdResponse {
  std::string message_id;
  bool operator==(const MessageIdResponse&) const = default;
};

// generic_nack, enquire_link(_resp), unbind(_resp), the bodies Bridgehead
// does not read (decode) and, to encode, an error response without a body.
// (Decoded, a bind_*_resp, submit_sm_resp or deliver_sm_resp without a body
// is its own type with empty fields. Encoded with status 0, Empty means
// that default body: deliver_sm_resp's one NUL octet.)
struct Empty {
  bool operator==(const Empty&) const = default;
};

using Body = std::variant<Empty, Bind, BindResponse, ShortMessage, MessageIdResponse>;

struct Pdu {
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence = 0;  // 1 .. 0x7FFFFFFF (spec 3.2)
  Body body;
  // Decoded only: what the spec does not allow but decode() took anyway
  // (the first such thing, for the log; counts and field names, no SMSC
  // octets). Empty for a PDU as the spec has it; encode() ignores it.
  std::string irregularity;
  bool operator==(const Pdu&) const = default;
};

// The first TLV with tag, if there is one.
const Tlv* find_tlv(const std::vector<Tlv>& tlvs, std::uint16_t tag);

// Framing: how long the PDU at the start of `buffered` is. nullopt: fewer
// than 4 octets yet. An error: command_length below kHeaderSize or above
// kMaxPduSize (the stream cannot be resynchronised: close it).
Result<std::optional<std::size_t>> frame_length(std::span<const std::uint8_t> buffered);

// Why a complete frame could not be decoded, with what to answer: a
// request gets a generic_nack (or its own _resp) with `status`; a response
// (only one with an unknown command id or a short header gets here) is
// dropped and logged. command_id and sequence are the header's (0 when
// the header itself is short). status: ESME_RINVCMDLEN for a frame that is
// short or has octets left over (and for a request's sequence_number 0 or
// above 0x7FFFFFFF: the spec has no status for it, so it is answered as the
// bad header it is); the field's own status for one over its maximum
// (ESME_RINVSYSID, ESME_RINVSRCADR, ESME_RINVMSGLEN for sm_length > 254,
// ...); ESME_RINVOPTPARSTREAM for a TLV that does not fit the frame;
// ESME_RINVPARLEN for a known TLV of the wrong size (in a submit_sm; a
// deliver_sm keeps it, see decode()).
struct DecodeError {
  std::uint32_t command_id = 0;
  std::uint32_t sequence = 0;
  std::uint32_t status = status::invalid_command_length;
  std::string text;  // for the log: what was wrong and where ("short_message: sm_length 255 > 254")
};

// Decodes exactly one frame (frame_length's size). Known command ids have
// their bodies checked: C-octet strings within their maxima and ending
// with NUL inside the frame, sm_length within the frame, TLV lengths
// within the frame (known tags of the sizes the spec gives), a
// short_message or a message_payload but not both, schedule_delivery_time
// and validity_period empty or 16 characters, nothing left over. TON, NPI
// and the flag octets are not checked. Bodies Bridgehead does not read
// (query_sm, replace_sm, cancel_sm, outbind, submit_multi, data_sm,
// alert_notification and their responses) decode as Empty with the
// header kept; an unknown command id is an error with ESME_RINVCMDID.
//
// Leniency, each case noted in Pdu::irregularity instead of refused:
// - A response of a known command (bind_*_resp, submit_sm_resp,
//   deliver_sm_resp, generic_nack, enquire_link_resp, unbind_resp, ...)
//   always decodes once its header is whole: a missing body (also with
//   status 0) gives empty fields; a C-octet string is read up to its NUL
//   or the end of the frame, kept over its maximum up to
//   fields::kLooseString octets and emptied beyond; bind_resp's TLVs are
//   kept as far as they fit; octets left over are ignored. The status is
//   the header's. (A response with an unknown command id stays an error.)
// - In a deliver_sm, a known TLV of a size the spec does not give
//   (message_state of 2 octets, say) is kept as raw octets: its reader
//   checks the size and falls back (delivery_receipt.cpp).
// encode() refuses what the lenient cases let in (over-long strings,
// wrong TLV sizes), so a leniently decoded PDU need not encode again.
std::variant<Pdu, DecodeError> decode(std::span<const std::uint8_t> frame);

// The PDU's octets, command_length filled in. Fields over their maxima are
// an error (never truncated): the caller checked them, so this is a bug guard.
Result<std::string> encode(const Pdu& pdu);

// A response to request `request` with status and body (Empty for most):
// its _resp, or generic_nack for a command that has none (outbind,
// alert_notification, a response, an unknown id).
Pdu response_to(const Pdu& request, std::uint32_t status, Body body = Empty{});

}  // namespace bh::connectors::sms::smpp
