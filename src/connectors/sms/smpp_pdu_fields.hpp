// The field level of the SMPP codec (smpp_pdu*.cpp): the spec's maxima,
// the TLV checks, and a reader and a writer of the body's C-octet
// strings, integers and TLVs. Internal to the codec; the one place the
// limits live.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::connectors::sms::smpp::fields {

// Field maxima in characters, without the terminating NUL (the spec's
// sizes, SMPP v3.4 Issue 1.2 sections 4 and 5.2, include it).
inline constexpr std::size_t kSystemId = 15;       // 16 with NUL
inline constexpr std::size_t kPassword = 8;        // 9
inline constexpr std::size_t kSystemType = 12;     // 13
inline constexpr std::size_t kAddressRange = 40;   // 41
inline constexpr std::size_t kServiceType = 5;     // 6
inline constexpr std::size_t kAddress = 20;        // 21 (source_addr, destination_addr)
inline constexpr std::size_t kTime = 16;           // 17; or empty (spec 7.1)
inline constexpr std::size_t kMessageId = 64;      // 65
inline constexpr std::size_t kShortMessage = 254;  // sm_length (spec 5.2.21)
// A string of a response read leniently (Reader::loose_cstring) is kept
// over its maximum up to this many octets; a longer one is emptied (it is
// no id any SMSC means, and it would go into logs, the store and DSNs).
inline constexpr std::size_t kLooseString = 255;

// What is wrong, with the command_status that answers it.
struct Problem {
  std::uint32_t status = status::invalid_command_length;
  std::string text;
};

// The TLV value sizes the spec fixes for the tags Bridgehead reads
// (spec 5.3.2). Others are passed through as octets.
std::optional<Problem> check_tlv(const Tlv& tlv);
// Rules across a short message's fields (short_message or message_payload).
std::optional<Problem> check_message_fields(const ShortMessage& m);

// How Reader::tlvs() treats what the spec does not allow.
enum class TlvRead {
  strict,            // a known tag of the wrong size or a TLV that does not fit: fail
  keep_wrong_sizes,  // a known tag of the wrong size is kept raw and noted
  loose,             // that, and a TLV that does not fit ends the list (noted), no failure
};

// Reads a frame front to back. The first problem sticks: later reads
// return empty values, so a body is read straight through and checked once.
// What a lenient read lets through is noted (the first note sticks).
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t left() const { return bytes_.size() - pos_; }
  const std::optional<Problem>& problem() const { return problem_; }
  bool failed() const { return problem_.has_value(); }
  void fail(std::uint32_t status, std::string text);
  const std::string& irregularity() const { return irregularity_; }
  void note(std::string text) {
    if (irregularity_.empty()) irregularity_ = std::move(text);
  }

  std::uint8_t u8(std::string_view field);
  std::uint16_t u16(std::string_view field);
  std::uint32_t u32(std::string_view field);
  // n octets; the caller checked that left() has them.
  std::string octets(std::size_t n);
  // A C-octet string of at most max characters and its NUL. Longer:
  // too_long (the field's status); no NUL before the frame ends: a
  // truncated PDU (ESME_RINVCMDLEN).
  std::string cstring(std::string_view field, std::size_t max, std::uint32_t too_long);
  // Lenient: the string up to its NUL or, without one, the end of the
  // frame (noted); never a failure. Over max characters it is kept
  // (noted); over kLooseString octets it is emptied (noted).
  std::string loose_cstring(std::string_view field, std::size_t max);
  SmeAddress address(std::string_view field, std::size_t max, std::uint32_t too_long);
  // Empty or exactly 16 characters (spec 7.1); else status bad.
  std::string time(std::string_view field, std::uint32_t bad);
  // TLVs up to the end of the frame.
  std::vector<Tlv> tlvs(TlvRead mode = TlvRead::strict);

 private:
  bool need(std::size_t n, std::string_view field);

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::optional<Problem> problem_;
  std::string irregularity_;
};

// Writes a PDU; the first field over its maximum is the error (the octets
// are then not used).
class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void cstring(std::string_view field, const std::string& value, std::size_t max);
  void address(std::string_view field, const SmeAddress& a, std::size_t max);
  void time(std::string_view field, const std::string& value);
  void tlvs(const std::vector<Tlv>& tlvs);
  void raw(const std::string& octets) { out_ += octets; }
  void fail(std::string text) {
    if (!error_) error_ = std::move(text);
  }

  std::string& bytes() { return out_; }
  const std::optional<std::string>& error() const { return error_; }

 private:
  std::string out_;
  std::optional<std::string> error_;
};

}  // namespace bh::connectors::sms::smpp::fields
