#include <gtest/gtest.h>

#include "smtp/proto/data_decoder.hpp"

using bh::smtp::DataDecoder;
using bh::smtp::TextLimits;

namespace {
constexpr TextLimits kLimits{1 << 20, 1000, 1 << 16};

struct Fed {
  std::string content;
  bool done;
  bool bare;
  std::size_t consumed;
};

Fed feed_in_pieces(std::string_view input, std::size_t piece) {
  std::string content;
  DataDecoder decoder(DataDecoder::Mode::dot_stuffed, kLimits, content);
  std::size_t consumed = 0;
  while (consumed < input.size() && !decoder.done()) {
    std::string_view part = input.substr(consumed, piece);
    consumed += decoder.feed(part);
  }
  return {content, decoder.done(), decoder.bare_line_ending(), consumed};
}
}  // namespace

TEST(DataDecoder, EndsOnlyAtCrLfDotCrLf) {
  const std::string input = "a\r\n..b\r\n.\r\nNEXT";
  for (std::size_t piece = 1; piece <= input.size(); ++piece) {
    Fed fed = feed_in_pieces(input, piece);
    EXPECT_TRUE(fed.done) << piece;
    EXPECT_FALSE(fed.bare);
    EXPECT_EQ(fed.content, "a\r\n.b\r\n") << piece;
    EXPECT_EQ(fed.consumed, input.size() - 4) << piece;
  }
}

TEST(DataDecoder, SmugglingVariantsAreNotEnds) {
  for (std::string input :
       {"a\n.\r\nb\r\n.\r\n", "a\r\n.\nb\r\n.\r\n", "a\r.\r\nb\r\n.\r\n", "a\r\n.\rb\r\n.\r\n"}) {
    Fed fed = feed_in_pieces(input, input.size());
    EXPECT_TRUE(fed.done) << input;
    EXPECT_TRUE(fed.bare) << input;
    EXPECT_EQ(fed.consumed, input.size()) << input;  // the real end is the last CRLF.CRLF
  }
}

TEST(DataDecoder, EmptyMessage) {
  Fed fed = feed_in_pieces(".\r\n", 3);
  EXPECT_TRUE(fed.done);
  EXPECT_EQ(fed.content, "");
}

TEST(DataDecoder, LimitsAreCountedNotStored) {
  std::string content;
  DataDecoder decoder(DataDecoder::Mode::raw, {10, 1000, 1000}, content);
  decoder.feed("0123456789abcdef\r\n");
  EXPECT_TRUE(decoder.too_big());
  EXPECT_EQ(content.size(), 10u);
  EXPECT_EQ(decoder.total(), 18u);
}

TEST(DataDecoder, LineAndHeaderLimits) {
  std::string content;
  DataDecoder decoder(DataDecoder::Mode::raw, {1 << 20, 1000, 20}, content);
  decoder.feed(std::string(998, 'x') + "\r\n");
  EXPECT_FALSE(decoder.line_too_long());
  EXPECT_TRUE(decoder.header_too_big());
  decoder.feed(std::string(999, 'x') + "\r\n");
  EXPECT_TRUE(decoder.line_too_long());
}

// Issue 12.1: a header line that never ends is not kept beyond the header
// limit (it used to be kept up to the message size, in memory).
TEST(DataDecoder, UnendingHeaderLineIsNotKept) {
  std::string content;
  DataDecoder decoder(DataDecoder::Mode::dot_stuffed, TextLimits{35u << 20, 1000, 102400}, content);
  std::string chunk(64 * 1024, 'h');
  for (int i = 0; i < 32; ++i) decoder.feed(chunk);  // 2 MiB, no CRLF
  EXPECT_LE(content.size(), 102400u);
  decoder.feed("\r\n\r\nbody\r\n.\r\n");
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.header_too_big());
}

TEST(DataDecoder, NulIsSeenAndKeptOrStripped) {
  std::string kept, stripped;
  DataDecoder keep(DataDecoder::Mode::dot_stuffed, kLimits, kept);
  DataDecoder strip(DataDecoder::Mode::dot_stuffed, kLimits, stripped, true);
  std::string text("a\0b\r\n\0.\r\n.\r\n", 11);
  keep.feed(text);
  strip.feed(text);
  EXPECT_TRUE(keep.nul_seen() && strip.nul_seen());
  EXPECT_EQ(kept, std::string("a\0b\r\n\0.\r\n", 9));
  EXPECT_EQ(stripped, "ab\r\n.\r\n");
}
