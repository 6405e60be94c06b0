// Text <-> SMS user data (3GPP TS 23.038): GSM 03.38 7-bit with its
// extension table, UCS-2 (UTF-16BE, so characters beyond the BMP such as
// emoji travel as surrogate pairs), Latin-1 and ASCII. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/sms/sms_settings.hpp"

namespace bh::connectors::sms {

enum class Alphabet { gsm7, ucs2 };

// data_coding values (spec 5.2.19).
inline constexpr std::uint8_t kDataCodingDefault = 0x00;  // the SMSC default alphabet
inline constexpr std::uint8_t kDataCodingAscii = 0x01;    // IA5
inline constexpr std::uint8_t kDataCodingLatin1 = 0x03;
inline constexpr std::uint8_t kDataCodingUcs2 = 0x08;

// The GSM 7-bit escape to the extension table (TS 23.038 6.2.1.1): an
// extension character is this septet and its own, and a part of a long
// SMS never ends between them.
inline constexpr std::uint8_t kGsmEscape = 0x1B;

// Text, encoded for the wire: units are septets (gsm7, one per octet,
// unpacked, as SMPP carries them with data_coding 0) or UTF-16 code units
// (ucs2, two octets each). split_text (sms_segments.hpp) finds the unit
// offsets where a part may end in `octets`: never between ESC and its
// character, never inside a surrogate pair. With DefaultAlphabet latin1 or
// ascii a text sent with data_coding 0 has alphabet gsm7: one octet per
// unit, 160 to an SMS, as the SMSC converts it for the handset.
struct EncodedText {
  Alphabet alphabet = Alphabet::gsm7;
  std::uint8_t data_coding = kDataCodingDefault;
  std::string octets;          // as short_message / message_payload carries them
  std::size_t units = 0;       // septets (an extension character counts 2) or UTF-16 units
  std::size_t characters = 0;  // code points of the text
};

// UTF-8 text (already valid UTF-8; the text layer replaced what was not)
// to the alphabet it fits: GSM 7-bit when every character is in the basic
// or extension table (data_coding 0 with DefaultAlphabet::gsm7), else
// UCS-2 (data_coding 8). With DefaultAlphabet latin1 or ascii the SMSC
// reads data_coding 0 as that charset: a text that fits it is sent so,
// with data_coding 0 (one octet per character), else UCS-2.
EncodedText encode_text(std::string_view utf8, DefaultAlphabet default_alphabet);

// Whether every character of the UTF-8 text fits GSM 7-bit (basic table
// or extension table).
bool fits_gsm7(std::string_view utf8);

// User data from an SMSC to UTF-8, by data_coding: 0 by default_alphabet;
// 1 ASCII; 3 Latin-1; 8 UCS-2 (surrogate pairs joined, a lone surrogate is
// U+FFFD); 0xF0-0xFF: bit 2 set 8-bit data, else GSM 7-bit. Octets the
// alphabet does not define become U+FFFD. nullopt: binary data (data_coding
// 2, 4, 0xF4..) that is not text.
std::optional<std::string> decode_text(std::string_view octets, std::uint8_t data_coding,
                                       DefaultAlphabet default_alphabet);

// GSM 7-bit packing (TS 23.038 6.1.2.1.1), for SMSCs that want packed
// septets and for tests: septets (one per octet, values 0-127) to octets
// and back. fill_bits: leading bits to skip after a UDH (0-6).
std::string pack_septets(std::string_view septets, int fill_bits = 0);
std::string unpack_septets(std::string_view octets, std::size_t septet_count, int fill_bits = 0);

}  // namespace bh::connectors::sms
