// The body part of a mail is read only up to a bound (render/gmime_part.hpp
// decoded_part_bytes, used by sms_text.cpp): a part of 50 MB costs memory
// for what is kept, not for all of it, and a cut never turns UTF-8 into
// Latin-1. The memory is the process's peak resident size while the part
// is read (Linux: VmHWM, reset through /proc/self/clear_refs).
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "connectors/sms/sms_text.hpp"
#include "render/gmime_part.hpp"
#include "render/gobject_ptr.hpp"

namespace {

using bh::render::GPtr;

constexpr std::size_t kBigPart = 50u << 20;
constexpr std::size_t kMiB = 1u << 20;

// A mail with one text/plain part of at least `decoded` bytes: lines of
// 57 'a' (base64: "YWFh" 19 times, 76 characters) or of 76 'a' (8bit).
std::string big_mail(bool base64, std::size_t decoded) {
  std::string line = base64 ? std::string() : std::string(76, 'a');
  if (base64)
    for (int i = 0; i < 19; ++i) line += "YWFh";
  std::size_t per_line = base64 ? 57 : 76;
  std::string mail =
      "From: anna@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " +
      std::string(base64 ? "base64" : "8bit") + "\r\n\r\n";
  mail.reserve(mail.size() + (decoded / per_line + 1) * (line.size() + 2));
  for (std::size_t have = 0; have < decoded; have += per_line) mail += line + "\r\n";
  return mail;
}

std::size_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field)) return std::stoul(line.substr(std::string(field).size()));
  ADD_FAILURE() << "no " << field << " in /proc/self/status";
  return 0;
}

// How far the resident size rose above where it was while `work` ran.
std::size_t peak_growth(const std::function<void()>& work) {
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";  // "reset the peak resident set size"
    reset.flush();
    EXPECT_TRUE(reset.good()) << "cannot reset VmHWM";
  }
  std::size_t before = status_kib("VmRSS:");
  work();
  std::size_t peak = status_kib("VmHWM:");
  return peak > before ? (peak - before) * 1024 : 0;
}

// The mail's one part, parsed.
struct Parsed {
  GPtr<GMimeStream> stream;
  GPtr<GMimeParser> parser;
  GPtr<GMimeMessage> message;
  GMimePart* part = nullptr;
  explicit Parsed(const std::string& mail) {
    bh::render::init_gmime_once();
    stream.reset(g_mime_stream_mem_new_with_buffer(mail.data(), mail.size()));
    parser.reset(g_mime_parser_new_with_stream(stream.get()));
    message.reset(g_mime_parser_construct_message(parser.get(), nullptr));
    GMimeObject* body = message ? g_mime_message_get_mime_part(message.get()) : nullptr;
    if (body && GMIME_IS_PART(body)) part = GMIME_PART(body);
  }
};

// What GMime's own writer makes of the part (all of it, in memory).
std::string written_by_gmime(GMimePart* part) {
  GPtr<GMimeStream> memory(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), memory.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(memory.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace

TEST(SmsTextBounds, ReaderDecodesAsGMimeDoes) {
  const std::string uuencoded = "begin 644 x.txt\r\n#:&DA\r\n`\r\nend\r\n";  // "hi!"
  struct Case {
    const char* encoding;
    std::string body, decoded;
  };
  const Case cases[] = {
      {"base64", "SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n", "Hello, world!"},
      {"quoted-printable", "Gr=C3=BC=C3=9Fe, =\r\nAnna\r\n",
       "Gr\xC3\xBC\xC3\x9F"
       "e, Anna\r\n"},
      {"x-uuencode", uuencoded, "hi!"},
      {"8bit",
       "Gr\xC3\xBC\xC3\x9F"
       "e\r\n",
       "Gr\xC3\xBC\xC3\x9F"
       "e\r\n"},
  };
  for (const Case& c : cases) {
    std::string mail =
        "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
        "Content-Transfer-Encoding: " +
        std::string(c.encoding) + "\r\n\r\n" + c.body;
    Parsed parsed(mail);
    ASSERT_NE(parsed.part, nullptr) << c.encoding;
    std::string ours = bh::render::decoded_part_bytes(parsed.part, nullptr);
    EXPECT_EQ(ours, written_by_gmime(parsed.part)) << c.encoding;
    EXPECT_EQ(ours, c.decoded) << c.encoding;
    // Read twice: the part's stream is left for the next reader.
    EXPECT_EQ(bh::render::decoded_part_bytes(parsed.part, nullptr), ours) << c.encoding;
    EXPECT_EQ(bh::render::decoded_part_bytes(parsed.part, nullptr, 3), ours.substr(0, 3));
  }
  // A larger base64 part, whose blocks end inside base64 quads.
  Parsed large(big_mail(true, 3 * kMiB));
  ASSERT_NE(large.part, nullptr);
  EXPECT_EQ(bh::render::decoded_part_bytes(large.part, nullptr), written_by_gmime(large.part));
}

TEST(SmsTextBounds, AFiftyMegabytePartIsReadOnlyUpToTheBound) {
  for (bool base64 : {true, false}) {
    std::string mail = big_mail(base64, kBigPart);
    Parsed parsed(mail);
    ASSERT_NE(parsed.part, nullptr);
    std::string kept;
    std::size_t growth =
        peak_growth([&] { kept = bh::render::decoded_part_bytes(parsed.part, nullptr, kMiB); });
    EXPECT_EQ(kept.size(), kMiB) << base64;
    EXPECT_EQ(kept.substr(0, 3), "aaa");
    // Reading all of it would take 50 MB; the bound and a few blocks do.
    EXPECT_LT(growth, 8 * kMiB) << (base64 ? "base64" : "8bit");
    // The meter sees a whole decode (what sms_text.cpp did before).
    std::size_t whole =
        peak_growth([&] { EXPECT_GE(written_by_gmime(parsed.part).size(), kBigPart); });
    EXPECT_GT(whole, 40 * kMiB) << (base64 ? "base64" : "8bit");
  }
}

TEST(SmsTextBounds, AFiftyMegabyteMailGivesABoundedText) {
  std::string mail = big_mail(true, kBigPart);
  std::string text;
  // GMime copies the mail into its stream; the decoded part must not add
  // its 50 MB on top.
  std::size_t growth = peak_growth([&] {
    auto result = bh::connectors::sms::sms_text_of_mail(mail, {});
    ASSERT_TRUE(result) << result.error().message;
    text = *result;
  });
  EXPECT_EQ(text.size(), bh::connectors::sms::kMaxSmsTextBytes);
  EXPECT_EQ(text.substr(0, 3), "aaa");
  EXPECT_LT(growth, mail.size() + 16 * kMiB);
}

TEST(SmsTextBounds, ACutInsideAUtf8CharacterKeepsTheTextUtf8) {
  // No charset: UTF-8 when it is valid, else Latin-1. The bound (1 MiB)
  // falls inside a two-byte "é"; the cut must not make it Latin-1.
  std::string body = "x";
  for (int i = 0; i < 600000; ++i) body += "\xC3\xA9";
  std::string mail =
      "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n" +
      body + "\r\n";
  auto text = bh::connectors::sms::sms_text_of_mail(mail, {});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_TRUE(text->starts_with("x\xC3\xA9\xC3\xA9")) << text->substr(0, 12);
  EXPECT_EQ(text->find("\xC3\x83"), std::string::npos);  // "Ã": read as Latin-1
}
