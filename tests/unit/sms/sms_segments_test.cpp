// Mail -> SMS: an encoded text split into the submit_sm bodies of one SMS
// or of a concatenated one (UDH, SAR, message_payload), within max_parts.
// Reading incoming parts: sms_incoming_part_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "connectors/sms/sms_segments.hpp"

using namespace bh::connectors::sms;

namespace {

constexpr std::uint32_t kPayloadBytes = 1800;

EncodedText gsm(const std::string& utf8) {
  EncodedText text = encode_text(utf8, DefaultAlphabet::gsm7);
  EXPECT_EQ(text.alphabet, Alphabet::gsm7);
  return text;
}

EncodedText ucs2(const std::string& utf8) {
  EncodedText text = encode_text(utf8, DefaultAlphabet::gsm7);
  EXPECT_EQ(text.alphabet, Alphabet::ucs2);
  return text;
}

Segments split(const EncodedText& text, LongMessages mode = LongMessages::udh, int max_parts = 6,
               std::uint16_t reference = 0x1234) {
  auto result = split_text(text, mode, max_parts, kPayloadBytes, reference);
  EXPECT_TRUE(std::holds_alternative<Segments>(result));
  if (auto* segments = std::get_if<Segments>(&result)) return *segments;
  return {};
}

TooLong too_long(const EncodedText& text, LongMessages mode = LongMessages::udh, int max_parts = 6,
                 std::uint32_t payload_bytes = kPayloadBytes) {
  auto result = split_text(text, mode, max_parts, payload_bytes, 1);
  EXPECT_TRUE(std::holds_alternative<TooLong>(result));
  if (auto* too_long = std::get_if<TooLong>(&result)) return *too_long;
  return {};
}

std::string udh(std::uint8_t reference, std::uint8_t total, std::uint8_t sequence) {
  return std::string{0x05,
                     0x00,
                     0x03,
                     static_cast<char>(reference),
                     static_cast<char>(total),
                     static_cast<char>(sequence)};
}

// The parts' user data after their UDHs, joined.
std::string joined_after_udh(const Segments& segments) {
  std::string out;
  for (const SegmentBody& part : segments.parts) out += part.short_message.substr(6);
  return out;
}

const std::string kEmoji = "\xF0\x9F\x98\x80";  // U+1F600: a surrogate pair in UCS-2

}  // namespace

TEST(SmsSegments, OneSmsHolds160GsmSeptets) {
  Segments one = split(gsm(std::string(160, 'a')));
  ASSERT_EQ(one.parts.size(), 1u);
  EXPECT_EQ(one.data_coding, kDataCodingDefault);
  EXPECT_EQ(one.parts[0].short_message, std::string(160, 'a'));
  EXPECT_EQ(one.parts[0].esm_class, 0);
  EXPECT_TRUE(one.parts[0].tlvs.empty());

  Segments two = split(gsm(std::string(161, 'a')));
  ASSERT_EQ(two.parts.size(), 2u);
  EXPECT_EQ(two.parts[0].short_message, udh(0x34, 2, 1) + std::string(153, 'a'));
  EXPECT_EQ(two.parts[1].short_message, udh(0x34, 2, 2) + std::string(8, 'a'));
  EXPECT_EQ(two.parts[0].esm_class, 0x40);
  EXPECT_EQ(two.parts[1].esm_class, 0x40);
}

TEST(SmsSegments, ExtensionCharactersCountTwiceAgainstTheLimit) {
  // 159 septets and one € (2 septets) are 161: two parts.
  EXPECT_EQ(split(gsm(std::string(158, 'a') + "€")).parts.size(), 1u);
  EXPECT_EQ(split(gsm(std::string(159, 'a') + "€")).parts.size(), 2u);
}

TEST(SmsSegments, OneSmsHolds70Ucs2Units) {
  std::string seventy = "ж" + std::string(69, 'a');
  Segments one = split(ucs2(seventy));
  ASSERT_EQ(one.parts.size(), 1u);
  EXPECT_EQ(one.data_coding, kDataCodingUcs2);
  EXPECT_EQ(one.parts[0].short_message.size(), 140u);
  EXPECT_EQ(one.parts[0].esm_class, 0);

  Segments two = split(ucs2(seventy + "a"));
  ASSERT_EQ(two.parts.size(), 2u);
  EXPECT_EQ(two.parts[0].short_message.size(), 6u + 2 * 67);
  EXPECT_EQ(two.parts[1].short_message.size(), 6u + 2 * 4);
  EXPECT_EQ(two.parts[1].short_message.substr(0, 6), udh(0x34, 2, 2));
}

TEST(SmsSegments, LongGsmTextBecomesUdhPartsThatJoinToTheText) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += static_cast<char>('a' + i % 26);
  EncodedText encoded = gsm(text);
  Segments segments = split(encoded, LongMessages::udh, 6, 0xAB07);
  ASSERT_EQ(segments.parts.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(segments.parts[i].short_message.substr(0, 6),
              udh(0x07, 3, static_cast<std::uint8_t>(i + 1)));
    EXPECT_EQ(segments.parts[i].esm_class, 0x40);
    EXPECT_TRUE(segments.parts[i].tlvs.empty());
  }
  EXPECT_EQ(segments.parts[0].short_message.size(), 6u + 153);
  EXPECT_EQ(segments.parts[1].short_message.size(), 6u + 153);
  EXPECT_EQ(segments.parts[2].short_message.size(), 6u + 94);
  EXPECT_EQ(joined_after_udh(segments), encoded.octets);
  EXPECT_EQ(decode_text(joined_after_udh(segments), 0, DefaultAlphabet::gsm7).value_or(""), text);
}

TEST(SmsSegments, NeverSplitsBetweenEscapeAndItsCharacter) {
  // 152 septets, then € (ESC 0x65) on the 153rd and 154th: the first part
  // ends before the ESC and holds one septet less.
  std::string text = std::string(152, 'a') + "€" + std::string(20, 'b');
  EncodedText encoded = gsm(text);
  Segments segments = split(encoded);
  ASSERT_EQ(segments.parts.size(), 2u);
  EXPECT_EQ(segments.parts[0].short_message, udh(0x34, 2, 1) + std::string(152, 'a'));
  EXPECT_EQ(segments.parts[1].short_message, udh(0x34, 2, 2) + "\x1b\x65" + std::string(20, 'b'));
  EXPECT_EQ(joined_after_udh(segments), encoded.octets);
}

TEST(SmsSegments, NeverSplitsASurrogatePair) {
  // 66 units, then the emoji's two units on the 67th and 68th.
  std::string text = std::string(66, 'a') + kEmoji + std::string(10, 'b');
  EncodedText encoded = ucs2(text);
  ASSERT_EQ(encoded.units, 78u);
  Segments segments = split(encoded);
  ASSERT_EQ(segments.parts.size(), 2u);
  EXPECT_EQ(segments.parts[0].short_message.size(), 6u + 2 * 66);
  EXPECT_EQ(segments.parts[1].short_message.substr(6, 4), std::string("\xD8\x3D\xDE\x00", 4));
  EXPECT_EQ(joined_after_udh(segments), encoded.octets);
  EXPECT_EQ(decode_text(joined_after_udh(segments), 8, DefaultAlphabet::gsm7).value_or(""), text);
}

TEST(SmsSegments, SarPartsCarryTheReferenceInTlvsAndNoUdh) {
  EncodedText encoded = gsm(std::string(200, 'x'));
  Segments segments = split(encoded, LongMessages::sar, 6, 0x1234);
  ASSERT_EQ(segments.parts.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const SegmentBody& part = segments.parts[i];
    EXPECT_EQ(part.esm_class, 0);
    ASSERT_EQ(part.tlvs.size(), 3u);
    EXPECT_EQ(part.tlvs[0].tag, bh::connectors::sms::smpp::tlv::sar_msg_ref_num);
    EXPECT_EQ(part.tlvs[0].value, "\x12\x34");
    EXPECT_EQ(part.tlvs[1].tag, bh::connectors::sms::smpp::tlv::sar_total_segments);
    EXPECT_EQ(part.tlvs[1].value, std::string(1, '\x02'));
    EXPECT_EQ(part.tlvs[2].tag, bh::connectors::sms::smpp::tlv::sar_segment_seqnum);
    EXPECT_EQ(part.tlvs[2].value, std::string(1, static_cast<char>(i + 1)));
  }
  EXPECT_EQ(segments.parts[0].short_message, std::string(153, 'x'));
  EXPECT_EQ(segments.parts[1].short_message, std::string(47, 'x'));
}

TEST(SmsSegments, MessagePayloadCarriesTheWholeTextUpToItsLimit) {
  EncodedText encoded = gsm(std::string(500, 'p'));
  Segments segments = split(encoded, LongMessages::message_payload);
  ASSERT_EQ(segments.parts.size(), 1u);
  EXPECT_TRUE(segments.parts[0].short_message.empty());
  EXPECT_EQ(segments.parts[0].esm_class, 0);
  ASSERT_EQ(segments.parts[0].tlvs.size(), 1u);
  EXPECT_EQ(segments.parts[0].tlvs[0].tag, bh::connectors::sms::smpp::tlv::message_payload);
  EXPECT_EQ(segments.parts[0].tlvs[0].value, encoded.octets);

  // A short text stays in short_message.
  Segments short_text = split(gsm("hello"), LongMessages::message_payload);
  ASSERT_EQ(short_text.parts.size(), 1u);
  EXPECT_EQ(short_text.parts[0].short_message, "hello");
  EXPECT_TRUE(short_text.parts[0].tlvs.empty());

  // The provider's limit in bytes: 300 GSM septets, 150 UCS-2 units.
  auto fits = split_text(gsm(std::string(300, 'p')), LongMessages::message_payload, 6, 300, 1);
  EXPECT_TRUE(std::holds_alternative<Segments>(fits));
  TooLong over = too_long(gsm(std::string(301, 'p')), LongMessages::message_payload, 6, 300);
  EXPECT_EQ(over.units, 301u);
  EXPECT_EQ(over.max_units, 300u);
  EXPECT_NE(over.text.find("the provider's limit of 300 bytes"), std::string::npos) << over.text;
  TooLong over_ucs2 =
      too_long(ucs2("ж" + std::string(150, 'p')), LongMessages::message_payload, 6, 300);
  EXPECT_EQ(over_ucs2.max_units, 150u);
  // max_parts still bounds what the handset gets.
  TooLong parts = too_long(gsm(std::string(919, 'p')), LongMessages::message_payload, 6, 1800);
  EXPECT_EQ(parts.max_units, 918u);
}

TEST(SmsSegments, TooLongSaysHowLongTheTextMayBe) {
  TooLong gsm_text = too_long(gsm(std::string(1203, 'a')));
  EXPECT_EQ(gsm_text.units, 1203u);
  EXPECT_EQ(gsm_text.max_units, 918u);
  EXPECT_EQ(gsm_text.text,
            "The text is 1203 characters long; this SMS service sends at most 918 characters (6 "
            "messages of 153) in GSM 7-bit, or 402 when it contains characters outside GSM 7-bit "
            "(UCS-2).");

  std::string euros(900, 'a');
  for (int i = 0; i < 10; ++i) euros += "€";
  TooLong with_euro = too_long(gsm(euros));
  EXPECT_EQ(with_euro.units, 920u);
  EXPECT_NE(with_euro.text.find("The text is 910 characters long (920 counting each of"),
            std::string::npos)
      << with_euro.text;

  TooLong ucs2_text = too_long(ucs2("ж" + std::string(402, 'a')));
  EXPECT_EQ(ucs2_text.units, 403u);
  EXPECT_EQ(ucs2_text.max_units, 402u);
  EXPECT_EQ(ucs2_text.text,
            "The text is 403 characters long and contains characters outside GSM 7-bit, so it is "
            "sent as UCS-2; this SMS service sends at most 402 such characters (6 messages of "
            "67), or 918 without them (GSM 7-bit).");

  TooLong one_part = too_long(gsm(std::string(161, 'a')), LongMessages::sar, 1);
  EXPECT_EQ(one_part.max_units, 160u);
  EXPECT_NE(one_part.text.find("at most 160 characters (one message)"), std::string::npos)
      << one_part.text;
}

TEST(SmsSegments, TooLongWhenABoundaryCostsAUnit) {
  // 918 septets fit six parts only if no € straddles a boundary; this one does.
  std::string text = std::string(152, 'a') + "€" + std::string(764, 'a');
  TooLong result = too_long(gsm(text));
  EXPECT_EQ(result.units, 918u);
  EXPECT_EQ(result.max_units, 918u);
  EXPECT_NE(result.text.find("needs one message more"), std::string::npos) << result.text;
  // One septet less fits.
  EXPECT_EQ(split(gsm(text.substr(0, text.size() - 1))).parts.size(), 6u);
}

TEST(SmsSegments, MaxUnitsByAlphabetModeAndParts) {
  EXPECT_EQ(max_units(Alphabet::gsm7, LongMessages::udh, 6, kPayloadBytes), 918u);
  EXPECT_EQ(max_units(Alphabet::ucs2, LongMessages::udh, 6, kPayloadBytes), 402u);
  EXPECT_EQ(max_units(Alphabet::gsm7, LongMessages::sar, 1, kPayloadBytes), 160u);
  EXPECT_EQ(max_units(Alphabet::ucs2, LongMessages::sar, 1, kPayloadBytes), 70u);
  EXPECT_EQ(max_units(Alphabet::gsm7, LongMessages::udh, 300, kPayloadBytes), 255u * 153);
  EXPECT_EQ(max_units(Alphabet::gsm7, LongMessages::message_payload, 20, kPayloadBytes), 1800u);
  EXPECT_EQ(max_units(Alphabet::ucs2, LongMessages::message_payload, 20, kPayloadBytes), 900u);
  EXPECT_EQ(max_units(Alphabet::ucs2, LongMessages::message_payload, 6, kPayloadBytes), 402u);
}

TEST(SmsSegments, EmptyTextIsOneEmptyPart) {
  Segments segments = split(gsm(""));
  ASSERT_EQ(segments.parts.size(), 1u);
  EXPECT_TRUE(segments.parts[0].short_message.empty());
}
