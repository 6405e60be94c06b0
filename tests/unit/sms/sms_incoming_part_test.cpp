// Mail <- SMS: a deliver_sm's user data read as one part of a
// concatenated SMS (UDH, SAR TLVs, message_payload), or as a whole message.
#include <gtest/gtest.h>

#include <string>

#include "connectors/sms/sms_segments.hpp"

using namespace bh::connectors::sms;

namespace {

namespace smpp = bh::connectors::sms::smpp;

smpp::ShortMessage deliver(std::string short_message, std::uint8_t esm_class = 0x40) {
  smpp::ShortMessage message;
  message.esm_class = esm_class;
  message.short_message = std::move(short_message);
  return message;
}

IncomingPart read_ok(const smpp::ShortMessage& message) {
  auto result = read_incoming_part(message);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : IncomingPart{};
}

std::string read_error(const smpp::ShortMessage& message) {
  auto result = read_incoming_part(message);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : result.error().message;
}

}  // namespace

TEST(SmsIncomingPart, ReadsAnUdhWithAn8BitReference) {
  IncomingPart part = read_ok(deliver(std::string("\x05\x00\x03\x7F\x03\x02", 6) + "hello"));
  ASSERT_TRUE(part.part.has_value());
  EXPECT_EQ(part.part->reference, 0x7F);
  EXPECT_EQ(part.part->total, 3);
  EXPECT_EQ(part.part->sequence, 2);
  EXPECT_EQ(part.user_data, "hello");
  EXPECT_EQ(part.fill_bits, 0);
}

TEST(SmsIncomingPart, ReadsAnUdhWithA16BitReferenceAfterOtherElements) {
  // Port addressing (IEI 0x05, 4 octets) first, then IEI 0x08.
  IncomingPart part =
      read_ok(deliver(std::string("\x0C\x05\x04\x0B\x84\x23\xF0\x08\x04\x12\x34\x02\x01", 13) +
                      std::string("\x00h\x00i", 4)));
  ASSERT_TRUE(part.part.has_value());
  EXPECT_EQ(part.part->reference, 0x1234);
  EXPECT_EQ(part.part->total, 2);
  EXPECT_EQ(part.part->sequence, 1);
  EXPECT_EQ(part.user_data, std::string("\x00h\x00i", 4));
}

TEST(SmsIncomingPart, AnUdhWithoutConcatenationIsAWholeMessage) {
  IncomingPart part = read_ok(deliver(std::string("\x06\x05\x04\x0B\x84\x23\xF0", 7) + "data"));
  EXPECT_FALSE(part.part.has_value());
  EXPECT_EQ(part.user_data, "data");
  // Without UDHI the short_message is the user data, whatever it starts with.
  IncomingPart plain = read_ok(deliver(std::string("\x05\x00\x03\x01\x02\x01"
                                                   "x",
                                                   7),
                                       0));
  EXPECT_FALSE(plain.part.has_value());
  EXPECT_EQ(plain.user_data, std::string("\x05\x00\x03\x01\x02\x01"
                                         "x",
                                         7));
  // A "concatenated" message of one part.
  IncomingPart single =
      read_ok(deliver(std::string("\x05\x00\x03\x01\x01\x01"
                                  "x",
                                  7)));
  EXPECT_FALSE(single.part.has_value());
  EXPECT_EQ(single.user_data, "x");
}

TEST(SmsIncomingPart, RefusesAMalformedUdh) {
  EXPECT_NE(read_error(deliver("")).find("no user data"), std::string::npos);
  EXPECT_NE(read_error(deliver(std::string("\x0A\x00\x03\x01\x02\x01", 6))).find("UDH length 10"),
            std::string::npos);
  // An element longer than the header.
  EXPECT_NE(read_error(deliver(std::string("\x05\x00\x05\x01\x02\x01"
                                           "abc",
                                           9)))
                .find("runs past"),
            std::string::npos);
  // An element cut off after its IEI.
  EXPECT_NE(read_error(deliver(std::string("\x01\x00"
                                           "abc",
                                           5)))
                .find("cut off"),
            std::string::npos);
  // A concatenation element of the wrong size.
  EXPECT_NE(read_error(deliver(std::string("\x04\x00\x02\x01\x02"
                                           "x",
                                           6)))
                .find("of 2 octets"),
            std::string::npos);
  // total 0, sequence 0, sequence above total.
  read_error(
      deliver(std::string("\x05\x00\x03\x01\x00\x00"
                          "x",
                          7)));
  read_error(
      deliver(std::string("\x05\x00\x03\x01\x02\x00"
                          "x",
                          7)));
  EXPECT_NE(read_error(deliver(std::string("\x05\x00\x03\x01\x02\x03"
                                           "x",
                                           7)))
                .find("part 3 of 2"),
            std::string::npos);
}

TEST(SmsIncomingPart, ReadsSarTlvs) {
  smpp::ShortMessage message = deliver("part two", 0);
  message.tlvs = {{smpp::tlv::sar_msg_ref_num, "\xBE\xEF"},
                  {smpp::tlv::sar_total_segments, "\x03"},
                  {smpp::tlv::sar_segment_seqnum, "\x02"}};
  IncomingPart part = read_ok(message);
  ASSERT_TRUE(part.part.has_value());
  EXPECT_EQ(part.part->reference, 0xBEEF);
  EXPECT_EQ(part.part->total, 3);
  EXPECT_EQ(part.part->sequence, 2);
  EXPECT_EQ(part.user_data, "part two");

  smpp::ShortMessage missing = message;
  missing.tlvs.pop_back();
  EXPECT_NE(read_error(missing).find("not all"), std::string::npos);
  smpp::ShortMessage wide = message;
  wide.tlvs[1].value = std::string("\x00\x03", 2);
  EXPECT_NE(read_error(wide).find("sizes 2/2/1"), std::string::npos);
  smpp::ShortMessage beyond = message;
  beyond.tlvs[2].value = "\x04";
  read_error(beyond);
}

TEST(SmsIncomingPart, ReadsMessagePayloadAsTheUserData) {
  smpp::ShortMessage message = deliver("", 0);
  message.tlvs = {{smpp::tlv::message_payload, std::string(500, 'L')}};
  IncomingPart whole = read_ok(message);
  EXPECT_FALSE(whole.part.has_value());
  EXPECT_EQ(whole.user_data, std::string(500, 'L'));

  // A UDH at the start of the payload.
  message.esm_class = 0x40;
  message.tlvs[0].value = std::string("\x05\x00\x03\x09\x02\x02", 6) + "tail";
  IncomingPart part = read_ok(message);
  ASSERT_TRUE(part.part.has_value());
  EXPECT_EQ(part.part->reference, 9);
  EXPECT_EQ(part.user_data, "tail");

  // sm_length must be 0 with message_payload.
  message.short_message = "both";
  EXPECT_NE(read_error(message).find("both"), std::string::npos);
}

TEST(SmsIncomingPart, ArbitraryUserDataHeadersAreReadOrRefusedWithinTheirBounds) {
  // Deterministic pseudo-random short_messages with UDHI: whatever is
  // accepted has user data that is the message's tail, after the UDH.
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return static_cast<std::uint8_t>(seed >> 16);
  };
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string data(next() % 24, '\0');
    for (char& c : data) c = static_cast<char>(next() % 3 == 0 ? next() % 8 : next());
    if (!data.empty() && round % 2 == 0) data[0] = static_cast<char>(next() % 12);
    auto result = read_incoming_part(deliver(data));
    if (!result.ok()) continue;
    ++accepted;
    std::size_t udh_length = static_cast<std::uint8_t>(data[0]) + 1u;
    EXPECT_EQ(result->user_data, data.substr(udh_length));
    if (result->part) {
      EXPECT_GE(result->part->sequence, 1);
      EXPECT_LE(result->part->sequence, result->part->total);
      EXPECT_GT(result->part->total, 1);
    }
  }
  EXPECT_GT(accepted, 100);  // the generator does reach valid headers
}
