#include <gtest/gtest.h>

#include <string>

#include "connectors/sms/sms_encoding.hpp"
#include "util/printable.hpp"
#include "util/utf8.hpp"

using namespace bh::connectors::sms;

namespace {

// The GSM 7-bit default alphabet as TS 23.038 6.2.1 prints it, by septet,
// written out here independently of the table in sms_encoding.cpp. 0x1B
// (ESC) has no character.
const std::u32string kChart =
    U"@£$¥èéùìòÇ\nØø\rÅå"
    U"Δ_ΦΓΛΩΠΨΣΘΞ\x1b"
    U"ÆæßÉ"
    U" !\"#¤%&'()*+,-./"
    U"0123456789:;<=>?"
    U"¡ABCDEFGHIJKLMNO"
    U"PQRSTUVWXYZÄÖÑÜ§"
    U"¿abcdefghijklmno"
    U"pqrstuvwxyzäöñüà";

// The extension table (TS 23.038 6.2.1.1): septet after ESC, character.
const std::pair<char, char32_t> kExtensions[] = {
    {0x0A, U'\f'}, {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'},
    {0x3C, U'['},  {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'€'},
};

std::string utf8(char32_t c) {
  std::string out;
  bh::append_utf8(out, c);
  return out;
}

std::string decoded(std::string_view octets, std::uint8_t data_coding,
                    DefaultAlphabet alphabet = DefaultAlphabet::gsm7) {
  std::optional<std::string> text = decode_text(octets, data_coding, alphabet);
  EXPECT_TRUE(text.has_value()) << "data_coding " << int(data_coding);
  return text.value_or("<binary>");
}

}  // namespace

// util/utf8.hpp, which the decoders and the charts above use: each length
// of sequence with its bytes written out, and what UTF-8 cannot carry.
TEST(SmsUtf8, AppendWritesEachLengthAndReplacesWhatUtf8CannotCarry) {
  EXPECT_EQ(utf8(U'A'), "A");
  EXPECT_EQ(utf8(0x7F), "\x7F");
  EXPECT_EQ(utf8(0x80), "\xC2\x80");
  EXPECT_EQ(utf8(U'\u00E9'), "\xC3\xA9");
  EXPECT_EQ(utf8(0x7FF), "\xDF\xBF");
  EXPECT_EQ(utf8(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(utf8(U'\u20AC'), "\xE2\x82\xAC");
  EXPECT_EQ(utf8(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(utf8(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(utf8(U'\U0001F600'), "\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8(0x10FFFF), "\xF4\x8F\xBF\xBF");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8(0xD800), replacement);
  EXPECT_EQ(utf8(0xDFFF), replacement);
  EXPECT_EQ(utf8(0x110000), replacement);
  // Every code point UTF-8 carries reads back as itself.
  for (char32_t c = 1; c <= 0x10FFFF; c += (c < 0x1000 ? 1 : 0x3F)) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::string bytes = utf8(c);
    char32_t back = 0;
    auto code = static_cast<std::uint32_t>(c);
    ASSERT_EQ(bh::utf8_sequence(bytes, 0, &back), bytes.size()) << std::hex << code;
    ASSERT_EQ(static_cast<std::uint32_t>(back), code);
  }
}

TEST(SmsEncoding, EveryBasicCharacterRoundTrips) {
  ASSERT_EQ(kChart.size(), 128u);
  std::string all_text, all_septets;
  for (std::size_t septet = 0; septet < kChart.size(); ++septet) {
    if (septet == 0x1B) continue;
    std::string text = utf8(kChart[septet]);
    EncodedText encoded = encode_text(text, DefaultAlphabet::gsm7);
    EXPECT_EQ(encoded.alphabet, Alphabet::gsm7) << "septet " << septet;
    EXPECT_EQ(encoded.data_coding, kDataCodingDefault);
    EXPECT_EQ(encoded.octets, std::string(1, static_cast<char>(septet))) << "septet " << septet;
    EXPECT_EQ(encoded.units, 1u);
    EXPECT_EQ(encoded.characters, 1u);
    EXPECT_TRUE(fits_gsm7(text)) << "septet " << septet;
    EXPECT_EQ(decoded(encoded.octets, kDataCodingDefault), text) << "septet " << septet;
    all_text += text;
    all_septets += static_cast<char>(septet);
  }
  EncodedText all = encode_text(all_text, DefaultAlphabet::gsm7);
  EXPECT_EQ(all.octets, all_septets);
  EXPECT_EQ(all.units, 127u);
  EXPECT_EQ(decoded(all.octets, kDataCodingDefault), all_text);
}

TEST(SmsEncoding, EveryExtensionCharacterRoundTripsAsTwoSeptets) {
  for (auto [septet, character] : kExtensions) {
    std::string text = utf8(character);
    EncodedText encoded = encode_text(text, DefaultAlphabet::gsm7);
    EXPECT_EQ(encoded.alphabet, Alphabet::gsm7) << int(septet);
    EXPECT_EQ(encoded.octets, std::string({'\x1b', septet})) << int(septet);
    EXPECT_EQ(encoded.units, 2u);
    EXPECT_EQ(encoded.characters, 1u);
    EXPECT_EQ(decoded(encoded.octets, kDataCodingDefault), text);
  }
}

TEST(SmsEncoding, EuroCostsTwoSeptets) {
  EncodedText encoded = encode_text("5 €", DefaultAlphabet::gsm7);
  EXPECT_EQ(encoded.alphabet, Alphabet::gsm7);
  EXPECT_EQ(encoded.octets, "5 \x1b\x65");
  EXPECT_EQ(encoded.units, 4u);
  EXPECT_EQ(encoded.characters, 3u);
}

TEST(SmsEncoding, EmojiForcesUcs2AndCountsTwoUnits) {
  std::string text = "Hi \xF0\x9F\x98\x80";  // U+1F600
  EXPECT_FALSE(fits_gsm7(text));
  EncodedText encoded = encode_text(text, DefaultAlphabet::gsm7);
  EXPECT_EQ(encoded.alphabet, Alphabet::ucs2);
  EXPECT_EQ(encoded.data_coding, kDataCodingUcs2);
  EXPECT_EQ(encoded.octets, std::string("\x00H\x00i\x00 \xD8\x3D\xDE\x00", 10));
  EXPECT_EQ(encoded.units, 5u);
  EXPECT_EQ(encoded.characters, 4u);
  EXPECT_EQ(decoded(encoded.octets, kDataCodingUcs2), text);
}

TEST(SmsEncoding, OneCharacterOutsideTheTablesMakesTheWholeTextUcs2) {
  // Lower-case ç is not in the table (only Ç is); Cyrillic neither.
  for (std::string text : {"Garçon", "Привет", "a\tb"}) {
    EXPECT_FALSE(fits_gsm7(text)) << text;
    EncodedText encoded = encode_text(text, DefaultAlphabet::gsm7);
    EXPECT_EQ(encoded.alphabet, Alphabet::ucs2) << text;
    EXPECT_EQ(encoded.units, encoded.characters) << text;
    EXPECT_EQ(encoded.octets.size(), 2 * encoded.characters);
    EXPECT_EQ(decoded(encoded.octets, kDataCodingUcs2), text);
  }
  EXPECT_EQ(encode_text("Garçon", DefaultAlphabet::gsm7).octets.substr(6, 2),
            std::string("\x00\xE7", 2));
}

TEST(SmsEncoding, EmptyTextIsGsm) {
  EncodedText encoded = encode_text("", DefaultAlphabet::gsm7);
  EXPECT_EQ(encoded.alphabet, Alphabet::gsm7);
  EXPECT_EQ(encoded.units, 0u);
  EXPECT_TRUE(encoded.octets.empty());
}

TEST(SmsEncoding, Latin1AndAsciiDefaultsSendWhatFitsInOneOctet) {
  EncodedText latin1 = encode_text("Grüße ÿ`", DefaultAlphabet::latin1);
  EXPECT_EQ(latin1.data_coding, kDataCodingDefault);
  EXPECT_EQ(latin1.alphabet, Alphabet::gsm7);
  EXPECT_EQ(latin1.octets, "Gr\xFC\xDF\x65 \xFF`");
  EXPECT_EQ(latin1.units, 8u);
  EXPECT_EQ(latin1.characters, 8u);
  EXPECT_EQ(decoded(latin1.octets, kDataCodingDefault, DefaultAlphabet::latin1), "Grüße ÿ`");

  // € is not Latin-1 (though it is GSM): UCS-2.
  EXPECT_EQ(encode_text("5 €", DefaultAlphabet::latin1).alphabet, Alphabet::ucs2);

  EncodedText ascii = encode_text("{plain} ~text~", DefaultAlphabet::ascii);
  EXPECT_EQ(ascii.data_coding, kDataCodingDefault);
  EXPECT_EQ(ascii.octets, "{plain} ~text~");
  EXPECT_EQ(ascii.units, 14u);
  EncodedText umlaut = encode_text("Grüße", DefaultAlphabet::ascii);
  EXPECT_EQ(umlaut.alphabet, Alphabet::ucs2);
  EXPECT_EQ(umlaut.data_coding, kDataCodingUcs2);
}

TEST(SmsEncoding, DecodesEveryTextDataCoding) {
  EXPECT_EQ(decoded(std::string("\x00\x02\x11", 3), kDataCodingDefault), "@$_");
  EXPECT_EQ(decoded("@_", kDataCodingDefault), "¡§");  // GSM 0x40, 0x5F
  EXPECT_EQ(decoded("@\x02_", kDataCodingDefault, DefaultAlphabet::latin1), "@\x02_");
  EXPECT_EQ(decoded("ok\xE9", kDataCodingDefault, DefaultAlphabet::ascii), "ok\uFFFD");
  EXPECT_EQ(decoded("ok\x80", kDataCodingAscii), "ok\uFFFD");
  EXPECT_EQ(decoded("caf\xE9", kDataCodingLatin1), "café");
  EXPECT_EQ(decoded(std::string("\x00\xE4", 2), kDataCodingUcs2), "ä");
  // GSM message class coding: bit 2 clear GSM 7-bit, set 8-bit data.
  EXPECT_EQ(decoded("\x1b\x65 5", 0xF0), "€ 5");
  EXPECT_EQ(decoded("\x1b\x65 5", 0xF3), "€ 5");
  EXPECT_FALSE(decode_text("\x01\x02", 0xF4, DefaultAlphabet::gsm7).has_value());
  EXPECT_FALSE(decode_text("\x01\x02", 0xF7, DefaultAlphabet::gsm7).has_value());
  EXPECT_FALSE(decode_text("\x01\x02", 0x02, DefaultAlphabet::gsm7).has_value());
  EXPECT_FALSE(decode_text("\x01\x02", 0x04, DefaultAlphabet::gsm7).has_value());
  // GSM general data coding with a message class: 0x18 is UCS-2, 0x10 GSM.
  EXPECT_EQ(decoded(std::string("\x00\xE4", 2), 0x18), "ä");
  EXPECT_EQ(decoded("\x7f", 0x10), "à");
}

TEST(SmsEncoding, UndefinedOctetsBecomeReplacementCharacters) {
  // GSM: above 0x7F; ESC at the end; an undefined extension shows the
  // basic character (TS 23.038); ESC ESC shows a space.
  EXPECT_EQ(decoded("a\x80", kDataCodingDefault), "a\uFFFD");
  EXPECT_EQ(decoded("a\x1b", kDataCodingDefault), "a\uFFFD");
  EXPECT_EQ(decoded("\x1b"
                    "A",
                    kDataCodingDefault),
            "A");
  EXPECT_EQ(decoded("\x1b\x1b"
                    "A",
                    kDataCodingDefault),
            " A");
  // UCS-2: lone surrogates and an odd last octet.
  EXPECT_EQ(decoded(std::string("\xD8\x3D\x00"
                                "A",
                                4),
                    kDataCodingUcs2),
            "\uFFFD"
            "A");
  EXPECT_EQ(decoded(std::string("\xDE\x00\x00"
                                "A",
                                4),
                    kDataCodingUcs2),
            "\uFFFD"
            "A");
  EXPECT_EQ(decoded(std::string("\x00"
                                "A\xD8\x3D",
                                4),
                    kDataCodingUcs2),
            "A\uFFFD");
  EXPECT_EQ(decoded(std::string("\x00"
                                "A\x00",
                                3),
                    kDataCodingUcs2),
            "A\uFFFD");
}

TEST(SmsEncoding, PacksSeptetsAsTheSpecExampleShows) {
  // "hellohello", the classic TS 23.038 packing example.
  EXPECT_EQ(pack_septets("hellohello"), "\xE8\x32\x9B\xFD\x46\x97\xD9\xEC\x37");
  EXPECT_EQ(unpack_septets("\xE8\x32\x9B\xFD\x46\x97\xD9\xEC\x37", 10), "hellohello");
  EXPECT_EQ(pack_septets("hello"), "\xE8\x32\x9B\xFD\x06");
  // After a 6-octet UDH one fill bit aligns the septets: the first shifted by one.
  EXPECT_EQ(pack_septets("h", 1), std::string("\xD0", 1));
  EXPECT_EQ(pack_septets(""), "");
}

TEST(SmsEncoding, PackedSeptetsRoundTripWithEveryFillBitCount) {
  std::string septets;
  for (int i = 0; i < 128; ++i) septets += static_cast<char>(i);
  for (int fill = 0; fill <= 6; ++fill) {
    for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 127u, 128u}) {
      std::string input = septets.substr(0, length);
      std::string packed = pack_septets(input, fill);
      EXPECT_EQ(packed.size(), (fill + 7 * length + 7) / 8) << fill << "/" << length;
      EXPECT_EQ(unpack_septets(packed, length, fill), input) << fill << "/" << length;
    }
  }
  // Asking for more septets than the octets hold gives those there are.
  EXPECT_EQ(unpack_septets("\xE8\x32", 5), "he");
}
