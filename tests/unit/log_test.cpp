// Log lines and administrator output stay valid UTF-8 without raw control
// characters whatever bytes they carry (issue 7 item 10, issue 12 item 6).
#include <gtest/gtest.h>

#include <random>

#include "util/log.hpp"
#include "util/printable.hpp"

using bh::log::Format;
using bh::log::Line;

namespace {

std::string json(std::string_view value) {
  return Line("e").kv("v", value).render(Format::json);
}
std::string text(std::string_view value) {
  return Line("e").kv("v", value).render(Format::text);
}

// An independent reading of RFC 3629 table 3-7: decode by the bit patterns,
// then refuse what is overlong, a surrogate or above U+10FFFF.
bool reference_valid(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    unsigned long cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static const unsigned long kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

// Raw C0 controls, DEL, or C1 controls as UTF-8 (C2 80 .. C2 9F).
bool has_raw_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

}  // namespace

TEST(Utf8, DecoderAgreesWithReferenceOnEveryShortSequence) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(bh::valid_utf8(s), reference_valid(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(bh::valid_utf8(s), reference_valid(s)) << a << " " << b;
    }
  }
  for (int a = 0xC0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(bh::valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c;
      }
  const int edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xF0; a < 256; ++a)
    for (int b : edges)
      for (int c : edges)
        for (int d : edges) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(bh::valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c << " " << d;
        }
}

TEST(Printable, EscapesControlsAndInvalidUtf8KeepsText) {
  EXPECT_EQ(bh::printable("plain ascii <a@b.example>"), "plain ascii <a@b.example>");
  EXPECT_EQ(bh::printable("Grüße, 日本, 😀"), "Grüße, 日本, 😀");
  EXPECT_EQ(bh::printable("x\x1B]0;owned\x07y"), "x\\x1B]0;owned\\x07y");
  EXPECT_EQ(bh::printable("\x1B[2J\r\n\x7F"), "\\x1B[2J\\x0D\\x0A\\x7F");
  EXPECT_EQ(bh::printable(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(bh::printable("\xC2\x9B"
                          "31m"),
            "\\xC2\\x9B31m");  // C1 CSI
  EXPECT_EQ(bh::printable("a\xE2\x80\xAE"
                          "gnp.exe"),
            "a\\xE2\\x80\\xAEgnp.exe");  // RLO
  EXPECT_EQ(bh::printable("\xFF\xFE"), "\\xFF\\xFE");
  EXPECT_EQ(bh::printable("\xC0\xAF"), "\\xC0\\xAF");           // overlong '/'
  EXPECT_EQ(bh::printable("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // surrogate
  EXPECT_EQ(bh::printable("\xE2\x82"), "\\xE2\\x82");           // truncated
  EXPECT_EQ(bh::printable("\x80z"), "\\x80z");                  // lone continuation
  EXPECT_EQ(bh::printable("a\tb"), "a\\x09b");
  EXPECT_EQ(bh::printable("a\tb", "\t"), "a\tb");
}

TEST(LogJson, InvalidUtf8IsEscaped) {
  EXPECT_EQ(json("\xC0\xAF"), R"("event":"e","v":"\\xC0\\xAF")");           // overlong
  EXPECT_EQ(json("\xE0\x80\xAF"), R"("event":"e","v":"\\xE0\\x80\\xAF")");  // overlong
  EXPECT_EQ(json("\xF0\x80\x80\xAF"), R"("event":"e","v":"\\xF0\\x80\\x80\\xAF")");
  EXPECT_EQ(json("a\x80z"), R"("event":"e","v":"a\\x80z")");         // lone continuation
  EXPECT_EQ(json("a\xE2\x82"), R"("event":"e","v":"a\\xE2\\x82")");  // truncated at end
  EXPECT_EQ(json("\xE2\x82z"), R"("event":"e","v":"\\xE2\\x82z")");  // truncated
  EXPECT_EQ(json("\xF0\x9F\x98"), R"("event":"e","v":"\\xF0\\x9F\\x98")");
  EXPECT_EQ(json("\xED\xA0\x80\xED\xB0\x80"),
            R"("event":"e","v":"\\xED\\xA0\\x80\\xED\\xB0\\x80")");  // surrogate pair, CESU-8
  EXPECT_EQ(json("\xF4\x90\x80\x80"), R"("event":"e","v":"\\xF4\\x90\\x80\\x80")");  // > U+10FFFF
  EXPECT_EQ(json("\xFF\xFE"), R"("event":"e","v":"\\xFF\\xFE")");
  EXPECT_EQ(json("Grüße 😀"), "\"event\":\"e\",\"v\":\"Grüße 😀\"");  // valid UTF-8 stays
}

TEST(LogJson, ControlCharactersAreEscaped) {
  EXPECT_EQ(json("\x1B]0;x\x07"), R"("event":"e","v":"\u001b]0;x\u0007")");
  EXPECT_EQ(json(std::string_view("\0\x7F", 2)), R"("event":"e","v":"\u0000\u007f")");
  EXPECT_EQ(json("\xC2\x9B\xC2\x85"), R"("event":"e","v":"\u009b\u0085")");  // C1 controls
  EXPECT_EQ(json("a\xE2\x80\xA8"
                 "b\xE2\x80\xAE"),
            R"("event":"e","v":"a\u2028b\u202e")");
  EXPECT_EQ(json("q\"b\\\r\n\t"), R"("event":"e","v":"q\"b\\\r\n\t")");
  EXPECT_EQ(Line("e\x1B").kv("k\xFF", 1).render(Format::json), R"("event":"e\u001b","k\\xFF":1)");
}

TEST(LogText, ControlCharactersAndInvalidUtf8AreQuotedAndEscaped) {
  EXPECT_EQ(text("bjørn@example.test"), "e v=bjørn@example.test");
  EXPECT_EQ(text("\x1B]0;x\x07"), R"(e v="\u001b]0;x\u0007")");
  EXPECT_EQ(text("\xFF"), R"(e v="\\xFF")");
  EXPECT_EQ(text("a\x7F"), R"(e v="a\u007f")");
  EXPECT_EQ(text("a\xC2\x9B"), R"(e v="a\u009b")");
  EXPECT_EQ(text("a=b"), R"(e v="a=b")");
  EXPECT_EQ(text(""), R"(e v="")");
}

TEST(LogJson, AnyBytesGiveValidUtf8WithoutRawControls) {
  std::mt19937 random(12);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 40);
  for (int round = 0; round < 20000; ++round) {
    std::string value(static_cast<std::size_t>(length(random)), '\0');
    for (char& c : value) c = static_cast<char>(byte(random));
    for (Format format : {Format::json, Format::text}) {
      std::string line = Line("e").kv("v", value).render(format);
      ASSERT_TRUE(reference_valid(line)) << line;
      ASSERT_FALSE(has_raw_control(line)) << line;
    }
  }
}
