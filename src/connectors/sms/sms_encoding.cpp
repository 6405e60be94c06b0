#include "connectors/sms/sms_encoding.hpp"

#include <array>

#include "util/printable.hpp"
#include "util/utf8.hpp"

namespace bh::connectors::sms {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The GSM 7-bit default alphabet (3GPP TS 23.038 6.2.1), by septet. 0x1B is
// the escape to the extension table (0 here: it has no character of its own).
// clang-format off
constexpr std::array<char32_t, 128> kBasic = {
    /* 0x00 */ U'@', U'\u00A3', U'$', U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    /* 0x08 */ U'\u00F2', U'\u00C7', U'\n', U'\u00D8', U'\u00F8', U'\r', U'\u00C5', U'\u00E5',
    /* 0x10 */ U'\u0394', U'_', U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    /* 0x18 */ U'\u03A3', U'\u0398', U'\u039E', 0, U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    /* 0x20 */ U' ', U'!', U'"', U'#', U'\u00A4', U'%', U'&', U'\'',
    /* 0x28 */ U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    /* 0x30 */ U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7',
    /* 0x38 */ U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    /* 0x40 */ U'\u00A1', U'A', U'B', U'C', U'D', U'E', U'F', U'G',
    /* 0x48 */ U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    /* 0x50 */ U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W',
    /* 0x58 */ U'X', U'Y', U'Z', U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    /* 0x60 */ U'\u00BF', U'a', U'b', U'c', U'd', U'e', U'f', U'g',
    /* 0x68 */ U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    /* 0x70 */ U'p', U'q', U'r', U's', U't', U'u', U'v', U'w',
    /* 0x78 */ U'x', U'y', U'z', U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};
// clang-format on

// The extension table (TS 23.038 6.2.1.1): the septet after ESC.
struct Extension {
  std::uint8_t septet;
  char32_t character;
};
constexpr std::array<Extension, 10> kExtension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// What a code point is in GSM 7-bit: its septet, ESC + septet, or nothing.
// Every character of both tables is below U+0400 except the euro sign, so
// one reverse table of that size answers in one look-up.
constexpr std::size_t kReverseSize = 0x400;
constexpr std::uint16_t kNoSeptet = 0xFFFF;
constexpr std::uint16_t kExtended = 0x100;  // flag: ESC, then the low byte

constexpr std::array<std::uint16_t, kReverseSize> make_reverse() {
  std::array<std::uint16_t, kReverseSize> reverse{};
  for (auto& entry : reverse) entry = kNoSeptet;
  for (std::size_t septet = 0; septet < kBasic.size(); ++septet)
    if (septet != kGsmEscape) reverse[kBasic[septet]] = static_cast<std::uint16_t>(septet);
  for (const Extension& extension : kExtension)
    if (extension.character < kReverseSize)
      reverse[extension.character] = kExtended | extension.septet;
  return reverse;
}
constexpr std::array<std::uint16_t, kReverseSize> kReverse = make_reverse();

std::uint16_t gsm_of(char32_t c) {
  if (c < kReverseSize) return kReverse[c];
  if (c == U'\u20AC') return kExtended | 0x65;
  return kNoSeptet;
}

std::optional<char32_t> extension_character(std::uint8_t septet) {
  for (const Extension& extension : kExtension)
    if (extension.septet == septet) return extension.character;
  return std::nullopt;
}

// The next code point of text at pos (advancing pos); bytes that are not
// UTF-8 are one U+FFFD each.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  char32_t c = 0;
  std::size_t length = utf8_sequence(text, pos, &c);
  if (length == 0) {
    ++pos;
    return kReplacement;
  }
  pos += length;
  return c;
}

void append_unit(std::string& out, std::uint16_t unit) {
  out.push_back(static_cast<char>(unit >> 8));
  out.push_back(static_cast<char>(unit & 0xFF));
}

EncodedText encode_ucs2(std::string_view utf8) {
  EncodedText encoded;
  encoded.alphabet = Alphabet::ucs2;
  encoded.data_coding = kDataCodingUcs2;
  encoded.octets.reserve(utf8.size() * 2);
  for (std::size_t pos = 0; pos < utf8.size();) {
    char32_t c = next_code_point(utf8, pos);
    ++encoded.characters;
    if (c >= 0x10000) {
      char32_t offset = c - 0x10000;
      append_unit(encoded.octets, static_cast<std::uint16_t>(0xD800 + (offset >> 10)));
      append_unit(encoded.octets, static_cast<std::uint16_t>(0xDC00 + (offset & 0x3FF)));
    } else {
      append_unit(encoded.octets, static_cast<std::uint16_t>(c));
    }
  }
  encoded.units = encoded.octets.size() / 2;
  return encoded;
}

// GSM 7-bit, one septet per octet; nullopt when a character is in neither table.
std::optional<EncodedText> encode_gsm7(std::string_view utf8) {
  EncodedText encoded;
  encoded.octets.reserve(utf8.size());
  for (std::size_t pos = 0; pos < utf8.size();) {
    std::uint16_t septet = gsm_of(next_code_point(utf8, pos));
    if (septet == kNoSeptet) return std::nullopt;
    if (septet & kExtended) encoded.octets.push_back(static_cast<char>(kGsmEscape));
    encoded.octets.push_back(static_cast<char>(septet & 0x7F));
    ++encoded.characters;
  }
  encoded.units = encoded.octets.size();
  return encoded;
}

// One octet per character, every code point up to `highest` (Latin-1 0xFF,
// ASCII 0x7F). The alphabet is gsm7 for the splitting: one unit per octet,
// 160 to an SMS, as the SMSC converts it to GSM for the handset.
std::optional<EncodedText> encode_single_octet(std::string_view utf8, char32_t highest) {
  EncodedText encoded;
  encoded.octets.reserve(utf8.size());
  for (std::size_t pos = 0; pos < utf8.size();) {
    char32_t c = next_code_point(utf8, pos);
    if (c > highest) return std::nullopt;
    encoded.octets.push_back(static_cast<char>(c));
  }
  encoded.units = encoded.characters = encoded.octets.size();
  return encoded;
}

std::string decode_gsm7(std::string_view septets) {
  std::string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    auto septet = static_cast<std::uint8_t>(septets[i]);
    if (septet >= 0x80) {
      append_utf8(out, kReplacement);
    } else if (septet != kGsmEscape) {
      append_utf8(out, kBasic[septet]);
    } else if (i + 1 == septets.size()) {
      append_utf8(out, kReplacement);  // an ESC without its character
    } else {
      auto next = static_cast<std::uint8_t>(septets[++i]);
      if (next >= 0x80) {
        append_utf8(out, kReplacement);
      } else if (next == kGsmEscape) {
        // ESC ESC announces a further table that does not exist yet; TS
        // 23.038 says to show a space.
        out.push_back(' ');
      } else if (auto extension = extension_character(next)) {
        append_utf8(out, *extension);
      } else {
        append_utf8(out, kBasic[next]);  // TS 23.038: an undefined extension shows the basic one
      }
    }
  }
  return out;
}

std::string decode_single_octet(std::string_view octets, char32_t highest) {
  std::string out;
  out.reserve(octets.size());
  for (unsigned char c : octets) append_utf8(out, c <= highest ? c : kReplacement);
  return out;
}

std::string decode_ucs2(std::string_view octets) {
  std::string out;
  out.reserve(octets.size());
  auto unit_at = [&](std::size_t i) {
    return static_cast<char32_t>((static_cast<std::uint8_t>(octets[i]) << 8) |
                                 static_cast<std::uint8_t>(octets[i + 1]));
  };
  std::size_t i = 0;
  for (; i + 1 < octets.size(); i += 2) {
    char32_t unit = unit_at(i);
    if (unit >= 0xD800 && unit <= 0xDBFF && i + 3 < octets.size()) {
      char32_t low = unit_at(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    append_utf8(out, unit >= 0xD800 && unit <= 0xDFFF ? kReplacement : unit);
  }
  if (i < octets.size()) append_utf8(out, kReplacement);  // an odd octet at the end
  return out;
}

std::string decode_default(std::string_view octets, DefaultAlphabet default_alphabet) {
  switch (default_alphabet) {
    case DefaultAlphabet::latin1:
      return decode_single_octet(octets, 0xFF);
    case DefaultAlphabet::ascii:
      return decode_single_octet(octets, 0x7F);
    case DefaultAlphabet::gsm7:
      break;
  }
  return decode_gsm7(octets);
}

}  // namespace

EncodedText encode_text(std::string_view utf8, DefaultAlphabet default_alphabet) {
  std::optional<EncodedText> encoded;
  switch (default_alphabet) {
    case DefaultAlphabet::gsm7:
      encoded = encode_gsm7(utf8);
      break;
    case DefaultAlphabet::latin1:
      encoded = encode_single_octet(utf8, 0xFF);
      break;
    case DefaultAlphabet::ascii:
      encoded = encode_single_octet(utf8, 0x7F);
      break;
  }
  if (encoded) return std::move(*encoded);
  return encode_ucs2(utf8);
}

bool fits_gsm7(std::string_view utf8) {
  for (std::size_t pos = 0; pos < utf8.size();)
    if (gsm_of(next_code_point(utf8, pos)) == kNoSeptet) return false;
  return true;
}

std::optional<std::string> decode_text(std::string_view octets, std::uint8_t data_coding,
                                       DefaultAlphabet default_alphabet) {
  switch (data_coding) {
    case kDataCodingDefault:
      return decode_default(octets, default_alphabet);
    case kDataCodingAscii:
      return decode_single_octet(octets, 0x7F);
    case kDataCodingLatin1:
      return decode_single_octet(octets, 0xFF);
    case kDataCodingUcs2:
      return decode_ucs2(octets);
    default:
      break;
  }
  // GSM data coding schemes (TS 23.038 4), which SMPP's table takes over
  // for its upper values.
  if (data_coding >= 0xF0) {
    // Message class coding: bit 2 is 8-bit data, else GSM 7-bit.
    if (data_coding & 0x04) return std::nullopt;
    return decode_gsm7(octets);
  }
  if (data_coding >= 0xC0 && data_coding <= 0xDF) return decode_gsm7(octets);  // message waiting
  if (data_coding >= 0xE0) return decode_ucs2(octets);  // message waiting, UCS-2
  if (data_coding >= 0x10 && data_coding <= 0x7F && !(data_coding & 0x20)) {
    // General data coding (uncompressed): bits 3-2 are the alphabet.
    switch ((data_coding >> 2) & 0x03) {
      case 0:
        return decode_gsm7(octets);
      case 2:
        return decode_ucs2(octets);
      default:
        return std::nullopt;
    }
  }
  // Binary (2, 4), compressed, and the national charsets (JIS, Cyrillic,
  // Hebrew, pictograms, KS C 5601) that Bridgehead does not read.
  return std::nullopt;
}

std::string pack_septets(std::string_view septets, int fill_bits) {
  if (fill_bits < 0 || fill_bits > 6) fill_bits = 0;
  std::size_t bits = static_cast<std::size_t>(fill_bits) + 7 * septets.size();
  std::string out((bits + 7) / 8, '\0');
  std::size_t position = static_cast<std::size_t>(fill_bits);
  for (char c : septets) {
    unsigned septet = static_cast<unsigned char>(c) & 0x7F;
    std::size_t index = position / 8;
    unsigned shift = position % 8;
    out[index] =
        static_cast<char>(static_cast<unsigned char>(out[index]) | ((septet << shift) & 0xFF));
    if (shift > 1) out[index + 1] = static_cast<char>(septet >> (8 - shift));
    position += 7;
  }
  return out;
}

std::string unpack_septets(std::string_view octets, std::size_t septet_count, int fill_bits) {
  if (fill_bits < 0 || fill_bits > 6) fill_bits = 0;
  std::string out;
  out.reserve(septet_count);
  std::size_t position = static_cast<std::size_t>(fill_bits);
  for (std::size_t i = 0; i < septet_count && position + 7 <= octets.size() * 8; ++i) {
    std::size_t index = position / 8;
    unsigned shift = position % 8;
    unsigned value = static_cast<unsigned char>(octets[index]) >> shift;
    if (shift > 1)
      value |= static_cast<unsigned>(static_cast<unsigned char>(octets[index + 1])) << (8 - shift);
    out.push_back(static_cast<char>(value & 0x7F));
    position += 7;
  }
  return out;
}

}  // namespace bh::connectors::sms
