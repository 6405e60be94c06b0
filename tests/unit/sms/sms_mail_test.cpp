// The mail an incoming SMS becomes, read back: header fields with the
// project's HeaderBlock, encoded words decoded, and the quoted-printable
// body decoded by GMime's decoder to what went in.
#include "connectors/sms/sms_mail.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "connectors/webhook/mime_decode.hpp"
#include "intake/ingest.hpp"
#include "mail/header_block.hpp"

namespace {

using namespace bh;
using namespace bh::connectors::sms;
using bh::connectors::webhook::decode_encoded_words;

SmsMailFields fields_of_an_sms() {
  SmsMailFields f;
  f.mailbox = "anna@contoso.com";
  f.sender = "+491701234567";
  f.sender_raw = "491701234567";
  f.recipient = "+4915112345678";
  f.text = "Hello Anna, see you at 5.";
  f.received_at = 1764633600;  // 2025-12-02 00:00:00 UTC
  f.reply_domain = "sms.example.com";
  f.hostname = "gw.example.com";
  f.unique = sms_key(f.sender, f.recipient, 0, f.text, "");
  return f;
}

std::string field(const std::string& mail, std::string_view name) {
  HeaderBlock block(mail);
  auto found = block.all(name);
  return found.size() == 1 ? HeaderBlock::unfolded(found.front()->value)
                           : "<" + std::to_string(found.size()) + ">";
}

std::string body_of(const std::string& mail) {
  std::size_t blank = mail.find("\r\n\r\n");
  return blank == std::string::npos ? "" : mail.substr(blank + 4);
}

std::string decoded_body(const std::string& mail) {
  std::string encoded = body_of(mail);
  std::string out(encoded.size() + 3, '\0');
  int state = 0;
  guint32 save = 0;
  std::size_t n = g_mime_encoding_quoted_decode_step(
      reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size(),
      reinterpret_cast<unsigned char*>(out.data()), &state, &save);
  out.resize(n);
  return out;
}

std::size_t longest_line(const std::string& text) {
  std::size_t longest = 0, start = 0;
  for (std::size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2)
    longest = std::max(longest, end - start);
  return longest;
}

TEST(SmsMail, HeaderNamesTheSenderAndCanBeRepliedTo) {
  SmsMailFields f = fields_of_an_sms();
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_EQ(field(mail, "From"), "\"SMS +49 170 1234567\" <+491701234567@sms.example.com>");
  EXPECT_EQ(address_in_header(field(mail, "From")), "+491701234567@sms.example.com");
  EXPECT_EQ(field(mail, "To"), "<anna@contoso.com>");
  EXPECT_EQ(field(mail, "Subject"), "SMS from +49 170 1234567");
  EXPECT_EQ(field(mail, "Date"), "Tue, 02 Dec 2025 00:00:00 +0000");
  EXPECT_EQ(field(mail, "Message-ID"), "<" + f.unique + ".sms@gw.example.com>");
  EXPECT_EQ(field(mail, "MIME-Version"), "1.0");
  EXPECT_EQ(field(mail, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(field(mail, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(decoded_body(mail), "Hello Anna, see you at 5.\r\n");
}

TEST(SmsMail, UmlautsAndEmojiAreQuotedPrintableUtf8) {
  SmsMailFields f = fields_of_an_sms();
  f.text =
      "Gr\xC3\xBC\xC3\x9F"
      "e aus K\xC3\xB6ln \xF0\x9F\x98\x80 = 1 \xE2\x82\xAC";
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  std::string body = body_of(mail);
  // 7-bit on the wire: every byte above 0x7E and "=" escaped.
  for (char c : body) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << body;
  EXPECT_NE(body.find("Gr=C3=BC=C3=9Fe aus K=C3=B6ln =F0=9F=98=80 =3D 1 =E2=82=AC"),
            std::string::npos)
      << body;
  EXPECT_EQ(decoded_body(mail), f.text + "\r\n");
}

TEST(SmsMail, LongLinesAreSoftBrokenAndLineBreaksKept) {
  SmsMailFields f = fields_of_an_sms();
  f.text.clear();
  for (int i = 0; i < 40; ++i) f.text += "\xC3\xA4word ";  // one 280-byte line, ending in a space
  f.text += "\nsecond line\r\nthird\rfourth";
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_LE(longest_line(mail), 76u);
  std::string first;
  for (int i = 0; i < 40; ++i) first += "\xC3\xA4word ";
  EXPECT_EQ(decoded_body(mail), first + "\r\nsecond line\r\nthird\r\nfourth\r\n");
  // The space before the line end is encoded (it would be stripped).
  EXPECT_NE(body_of(mail).find("word=20\r\nsecond line"), std::string::npos) << body_of(mail);
}

TEST(SmsMail, ControlCharactersAndBadUtf8AreReplaced) {
  SmsMailFields f = fields_of_an_sms();
  f.text = std::string(
      "a\0b\x1b[2Jc\x7f"
      "d\xC2\x9B"
      "e\tf\xFFg",
      17);
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_EQ(decoded_body(mail), "a b [2Jc d e f\xEF\xBF\xBDg\r\n");
  // The text stays in the body, whatever it looks like.
  f.text = "\r\nBcc: victim@example.com\r\n";
  mail = compose_sms_mail(f);
  EXPECT_EQ(HeaderBlock(mail).fields().size(), 8u);
  EXPECT_EQ(decoded_body(mail), "\r\nBcc: victim@example.com\r\n");
}

TEST(SmsMail, AlphanumericSenderIsNotReplyable) {
  SmsMailFields f = fields_of_an_sms();
  f.sender.clear();
  f.sender_raw = "MyBank";
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_EQ(field(mail, "From"), "\"MyBank\" <no-reply@sms.example.com>");
  EXPECT_EQ(field(mail, "Subject"), "SMS from MyBank");
  // Hostile ids: controls become spaces, quotes are escaped, no new fields.
  f.sender_raw = "My\"Bank\r\nBcc: x@y";
  mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_TRUE(HeaderBlock(mail).all("Bcc").empty());
  EXPECT_EQ(field(mail, "From"), "\"My\\\"Bank  Bcc: x@y\" <no-reply@sms.example.com>");
  EXPECT_EQ(field(mail, "Subject"), "SMS from My\"Bank  Bcc: x@y");
  // Not ASCII: encoded words that decode to it.
  f.sender_raw =
      "B\xC3\xA4"
      "ckerei";
  mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  std::string from = field(mail, "From");
  EXPECT_TRUE(from.starts_with("=?UTF-8?B?")) << from;
  EXPECT_EQ(address_in_header(from), "no-reply@sms.example.com");
  EXPECT_EQ(decode_encoded_words(from.substr(0, from.find(" <"))),
            "B\xC3\xA4"
            "ckerei");
  EXPECT_EQ(decode_encoded_words(field(mail, "Subject")),
            "SMS from B\xC3\xA4"
            "ckerei");
  // Nothing at all: still a mail, from an unknown sender.
  f.sender_raw.clear();
  mail = compose_sms_mail(f);
  EXPECT_EQ(field(mail, "From"), "\"SMS (unknown sender)\" <no-reply@sms.example.com>");
  EXPECT_EQ(field(mail, "Subject"), "SMS from an unknown sender");
}

TEST(SmsMail, MissingPartsAreNamed) {
  SmsMailFields f = fields_of_an_sms();
  f.text = "First part. Third part.";
  f.total_parts = 4;
  f.missing_parts = {2, 4};
  std::string mail = compose_sms_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_EQ(decoded_body(mail),
            "First part. Third part.\r\n\r\n[Part 2 of 4 did not arrive.]\r\n"
            "[Part 4 of 4 did not arrive.]\r\n");
  // An empty SMS says so instead of being an empty mail.
  f.text.clear();
  f.missing_parts.clear();
  f.total_parts = 1;
  EXPECT_EQ(decoded_body(compose_sms_mail(f)), "[The SMS was empty.]\r\n");
}

// The key (and so the Message-ID) of the same SMS is the same whenever it
// comes; any difference in what the SMSC sent makes another.
TEST(SmsMail, KeysAreDeterministicAndTimeless) {
  std::string id = sms_key("+491701234567", "+4915112345678", 0, "Hi", "");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(sms_key("+491701234567", "+4915112345678", 0, "Hi", ""), id);
  std::set<std::string> ids = {
      id,
      sms_key("+491701234568", "+4915112345678", 0, "Hi", ""),
      sms_key("+491701234567", "+4915112345679", 0, "Hi", ""),
      sms_key("+491701234567", "+4915112345678", 0, "Hi!", ""),
      sms_key("+491701234567", "+4915112345678", 8, "Hi", ""),
      sms_key("+491701234567", "+4915112345678", 0, "Hi", "1/2/1"),
      sms_key("+491701234567", "+4915112345678", 0, "Hi", "1/2/2"),
      // The values are framed: moving bytes between them changes the key.
      sms_key("+49170123456", "7+4915112345678", 0, "Hi", ""),
      reassembled_key("+491701234567", "+4915112345678", 1, 2, "Hi"),
      reassembled_key("+491701234567", "+4915112345678", 2, 2, "Hi"),
      reassembled_key("+491701234567", "+4915112345678", 1, 3, "Hi"),
      reassembled_key("+491701234567", "+4915112345678", 1, 2, "Hi!"),
  };
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(reassembled_key("+491701234567", "+4915112345678", 1, 2, "Hi"),
            reassembled_key("+491701234567", "+4915112345678", 1, 2, "Hi"));
  // The first half of SHA-256 over
  // "3:sms13:+49170123456714:+49151123456781:02:Hi0:".
  EXPECT_EQ(id, "6c1db34c4b0d97304b83a2d06a62b50c");
}

}  // namespace
