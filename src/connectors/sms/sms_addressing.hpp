// How an SMPP address says what it is (spec 5.2.5 type of number, 5.2.6
// numbering plan indicator), and how long an alphanumeric sender id may
// be: the one place both directions (sms_outbound, sms_inbound) read them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bh::connectors::sms {

inline constexpr std::uint8_t kTonUnknown = 0;        // the SMSC decides (source_addr "")
inline constexpr std::uint8_t kTonInternational = 1;  // E.164 digits without the '+'
inline constexpr std::uint8_t kTonAlphanumeric = 5;   // a sender id ("MyBank"): no reply possible
inline constexpr std::uint8_t kNpiUnknown = 0;
inline constexpr std::uint8_t kNpiIsdn = 1;  // E.164

// An alphanumeric sender id is at most 11 characters (TS 23.040 9.1.2.5:
// 11 GSM septets in the TP-OA); SMPP's source_addr would hold 20.
inline constexpr std::size_t kMaxSenderId = 11;

}  // namespace bh::connectors::sms
