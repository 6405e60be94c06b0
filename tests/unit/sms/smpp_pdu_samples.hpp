// Golden SMPP 3.4 PDUs for the codec tests, written out by hand from the
// spec (SMPP v3.4 Issue 1.2 sections 3.2, 4.1, 4.4, 4.6, 4.11, 4.3): the
// octets as hex and the Pdu they mean. Shared by smpp_pdu_test.cpp and
// smpp_pdu_decode_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::test::smpp_samples {

namespace smpp = bh::connectors::sms::smpp;

// "00 0a ff" → octets; spaces and '|' (field separators) are ignored.
inline std::string hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits in " << text;
  return out;
}

inline std::span<const std::uint8_t> octets(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string hex_of(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The frame with command_length set to its size.
inline std::string framed(std::string bytes) {
  auto n = static_cast<std::uint32_t>(bytes.size());
  for (int i = 0; i < 4 && i < static_cast<int>(bytes.size()); ++i)
    bytes[i] = static_cast<char>(n >> (24 - 8 * i));
  return bytes;
}

// A frame decoded leniently: taken, with what was wrong noted.
inline smpp::Pdu taken(const std::string& bytes) {
  auto result = smpp::decode(octets(bytes));
  if (auto* error = std::get_if<smpp::DecodeError>(&result)) {
    ADD_FAILURE() << "refused: " << error->text;
    return {};
  }
  const auto& pdu = std::get<smpp::Pdu>(result);
  EXPECT_FALSE(pdu.irregularity.empty()) << "taken without a note";
  return pdu;
}

inline std::string message_id_of(const smpp::Pdu& pdu) {
  const auto* body = std::get_if<smpp::MessageIdResponse>(&pdu.body);
  EXPECT_NE(body, nullptr);
  return body ? body->message_id : "(no MessageIdResponse)";
}

inline std::string receipt_text() {
  return "id:7 sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:DELIVRD "
         "err:000 text:";
}

struct Sample {
  std::string name;
  std::string bytes;
  smpp::Pdu pdu;
  // Where a frame cut short (command_length patched to the cut) is still a
  // valid PDU: the end of the mandatory fields and of each TLV.
  std::vector<std::size_t> valid_cuts;
  // A response: decoded leniently, so every cut from the header on decodes,
  // with an irregularity noted except at valid_cuts.
  bool response = false;
};

inline std::vector<Sample> samples() {
  std::vector<Sample> out;
  {
    smpp::Bind bind;
    bind.system_id = "test";
    bind.password = "secret";
    out.push_back({"bind_transceiver",
                   hex("00000021 00000009 00000000 00000001"
                       "| 74 65 73 74 00 | 73 65 63 72 65 74 00 | 00 | 34 | 00 | 00 | 00"),
                   smpp::Pdu{smpp::command::bind_transceiver, 0, 1, bind},
                   {33}});
  }
  {
    smpp::BindResponse resp;
    resp.system_id = "SMSC";
    resp.tlvs = {{smpp::tlv::sc_interface_version, hex("34")}};
    out.push_back(
        {"bind_transceiver_resp",
         hex("0000001a 80000009 00000000 00000001 | 53 4d 53 43 00 | 0210 0001 34"),
         smpp::Pdu{smpp::command::bind_transceiver | smpp::command::response_bit, 0, 1, resp},
         {21, 26},
         true});
  }
  {
    // A part of a concatenated message: UDH IEI 0x00 ref 0x2a, part 1 of 2.
    smpp::ShortMessage m;
    m.source = {5, 0, "Bridge"};
    m.destination = {1, 1, "4915112345678"};
    m.esm_class = 0x40;
    m.registered_delivery = 1;
    m.short_message = hex("05 00 03 2a 02 01") + "Hi!";
    out.push_back({"submit_sm_udh",
                   hex("0000003d 00000004 00000000 00000002"
                       "| 00 | 05 00 42 72 69 64 67 65 00"
                       "| 01 01 34 39 31 35 31 31 32 33 34 35 36 37 38 00"
                       "| 40 | 00 | 00 | 00 | 00 | 01 | 00 | 00 | 00"
                       "| 09 | 05 00 03 2a 02 01 48 69 21"),
                   smpp::Pdu{smpp::command::submit_sm, 0, 2, m},
                   {61}});
  }
  {
    // UCS2 "Hi" in message_payload, sm_length 0.
    smpp::ShortMessage m;
    m.source = {1, 1, "4930123456"};
    m.destination = {1, 1, "4915112345678"};
    m.registered_delivery = 1;
    m.data_coding = 0x08;
    m.tlvs = {{smpp::tlv::message_payload, hex("0048 0069")}};
    out.push_back({"submit_sm_payload",
                   hex("00000040 00000004 00000000 00000003"
                       "| 00 | 01 01 34 39 33 30 31 32 33 34 35 36 00"
                       "| 01 01 34 39 31 35 31 31 32 33 34 35 36 37 38 00"
                       "| 00 | 00 | 00 | 00 | 00 | 01 | 00 | 08 | 00"
                       "| 00 | 0424 0004 0048 0069"),
                   smpp::Pdu{smpp::command::submit_sm, 0, 3, m},
                   {56, 64}});
  }
  {
    smpp::ShortMessage m;
    m.source = {1, 1, "4915112345678"};
    m.destination = {1, 1, "4930123456"};
    m.esm_class = 0x04;
    m.short_message = receipt_text();
    m.tlvs = {{smpp::tlv::receipted_message_id, hex("37 00")},
              {smpp::tlv::message_state, hex("02")}};
    out.push_back({"deliver_sm_receipt",
                   hex("000000a0 00000005 00000000 0000002a"
                       "| 00 | 01 01 34 39 31 35 31 31 32 33 34 35 36 37 38 00"
                       "| 01 01 34 39 33 30 31 32 33 34 35 36 00"
                       "| 04 | 00 | 00 | 00 | 00 | 00 | 00 | 00 | 00 | 5d") +
                       receipt_text() + hex("001e 0002 37 00 | 0427 0001 02"),
                   smpp::Pdu{smpp::command::deliver_sm, 0, 42, m},
                   {149, 155, 160}});
  }
  out.push_back({"submit_sm_resp",
                 hex("00000016 80000004 00000000 00000002 | 6d 73 67 2d 31 00"),
                 smpp::Pdu{smpp::command::submit_sm | smpp::command::response_bit, 0, 2,
                           smpp::MessageIdResponse{"msg-1"}},
                 {22},
                 true});
  out.push_back({"deliver_sm_resp",
                 hex("00000011 80000005 00000000 0000002a | 00"),
                 smpp::Pdu{smpp::command::deliver_sm | smpp::command::response_bit, 0, 42,
                           smpp::MessageIdResponse{""}},
                 {17},
                 true});
  out.push_back({"enquire_link",
                 hex("00000010 00000015 00000000 00000007"),
                 smpp::Pdu{smpp::command::enquire_link, 0, 7, smpp::Empty{}},
                 {16}});
  out.push_back(
      {"generic_nack",
       hex("00000010 80000000 00000003 00000000"),
       smpp::Pdu{smpp::command::generic_nack, smpp::status::invalid_command_id, 0, smpp::Empty{}},
       {16},
       true});
  return out;
}

}  // namespace bh::test::smpp_samples
