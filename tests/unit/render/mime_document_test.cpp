#include "render/mime_document.hpp"

#include <gtest/gtest.h>

#include "tests/unit/render/render_test_support.hpp"

namespace bh::render {
namespace {

using test::attachment;
using test::mail;
using test::multipart;
using test::text_part;

MailDocument parse_ok(const std::string& message, bool include_body = true) {
  auto parsed = parse_mail_document(message, RenderLimits{}, include_body);
  if (auto* failure = std::get_if<RenderFailure>(&parsed)) {
    ADD_FAILURE() << failure->status << " " << failure->text;
    return {};
  }
  return std::get<MailDocument>(parsed);
}

RenderFailure parse_failure(const std::string& message, RenderLimits limits = {}) {
  auto parsed = parse_mail_document(message, limits);
  EXPECT_TRUE(std::holds_alternative<RenderFailure>(parsed));
  auto* failure = std::get_if<RenderFailure>(&parsed);
  return failure ? *failure : RenderFailure{};
}

TEST(RenderMimeDocument, PlainMailIsTheBody) {
  auto doc = parse_ok(mail("Content-Type: text/plain; charset=utf-8\r\n", "Hallo Welt\r\n"));
  ASSERT_EQ(doc.parts.size(), 1u);
  EXPECT_TRUE(doc.parts[0].is_body);
  EXPECT_EQ(doc.parts[0].kind, PartKind::plain_text);
  EXPECT_EQ(doc.parts[0].data, "Hallo Welt\r\n");
}

TEST(RenderMimeDocument, ConvertsCharsetsAndTransferEncodings) {
  // ISO-8859-1 quoted-printable, KOI8-R base64, Shift_JIS 8bit.
  auto latin1 =
      parse_ok(mail("Content-Type: text/plain; charset=iso-8859-1\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n",
                    "Gr=FC=DFe\r\n"));
  ASSERT_EQ(latin1.parts.size(), 1u);
  EXPECT_EQ(latin1.parts[0].data, "Grüße\r\n");
  auto koi8 =
      parse_ok(mail("Content-Type: text/plain; charset=koi8-r\r\n"
                    "Content-Transfer-Encoding: base64\r\n",
                    test::base64("\xf0\xd2\xc9\xd7\xc5\xd4")));
  ASSERT_EQ(koi8.parts.size(), 1u);
  EXPECT_EQ(koi8.parts[0].data, "Привет");
  auto sjis =
      parse_ok(mail("Content-Type: text/plain; charset=Shift_JIS\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n",
                    "\x93\xfa\x96\x7b"));
  ASSERT_EQ(sjis.parts.size(), 1u);
  EXPECT_EQ(sjis.parts[0].data, "日本");
}

TEST(RenderMimeDocument, UnknownOrMissingCharsetFallsBackToLatin1) {
  auto unknown =
      parse_ok(mail("Content-Type: text/plain; charset=x-no-such-charset\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n",
                    "caf\xe9"));
  ASSERT_EQ(unknown.parts.size(), 1u);
  EXPECT_EQ(unknown.parts[0].data, "café");
  auto missing = parse_ok(mail("Content-Type: text/plain\r\n", "caf\xe9"));
  EXPECT_EQ(missing.parts[0].data, "café");
  auto utf8 = parse_ok(mail("Content-Type: text/plain\r\n", "café"));
  EXPECT_EQ(utf8.parts[0].data, "café");  // unlabelled but valid UTF-8 stays
}

TEST(RenderMimeDocument, HtmlWithoutMimeCharsetUsesItsMetaCharset) {
  auto doc =
      parse_ok(mail("Content-Type: text/html\r\n",
                    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                    "charset=windows-1252\"></head><body>\x93quoted\x94 \x80</body></html>"));
  ASSERT_EQ(doc.parts.size(), 1u);
  EXPECT_NE(doc.parts[0].data.find("\u201cquoted\u201d \u20ac"), std::string::npos);
}

TEST(RenderMimeDocument, PrefersPlainTextInAlternatives) {
  auto doc = parse_ok(mail(multipart("alternative", {text_part("text/html", "utf-8", "<p>html</p>"),
                                                     text_part("text/plain", "utf-8", "plain")}),
                           ""));
  ASSERT_EQ(doc.parts.size(), 1u);
  EXPECT_EQ(doc.parts[0].kind, PartKind::plain_text);
  EXPECT_EQ(doc.parts[0].data, "plain");
  auto html_only = parse_ok(mail("Content-Type: text/html; charset=utf-8\r\n", "<p>x</p>"));
  ASSERT_EQ(html_only.parts.size(), 1u);
  EXPECT_EQ(html_only.parts[0].kind, PartKind::html);
  EXPECT_TRUE(html_only.parts[0].is_body);
}

TEST(RenderMimeDocument, BodyThenAttachmentsInMimeOrder) {
  std::string message =
      mail(multipart("mixed", {attachment("application/pdf", "a.pdf", "%PDF-1.4 a"),
                               text_part("text/plain", "utf-8", "the body"),
                               attachment("image/png", "b.png", "\x89PNG\r\n\x1a\nxx"),
                               attachment("text/csv", "c.csv", "1,2,3")}),
           "");
  auto doc = parse_ok(message);
  ASSERT_EQ(doc.parts.size(), 4u);
  EXPECT_TRUE(doc.parts[0].is_body);
  EXPECT_EQ(doc.parts[0].number, 2);
  EXPECT_EQ(doc.parts[1].kind, PartKind::pdf);
  EXPECT_EQ(doc.parts[1].filename, "a.pdf");
  EXPECT_EQ(doc.parts[1].data, "%PDF-1.4 a");  // base64 decoded
  EXPECT_EQ(doc.parts[2].kind, PartKind::png);
  EXPECT_EQ(doc.parts[3].kind, PartKind::plain_text);
  EXPECT_FALSE(doc.parts[3].is_body);
  EXPECT_EQ(doc.parts[3].data, "1,2,3");

  auto without_body = parse_ok(message, false);
  ASSERT_EQ(without_body.parts.size(), 3u);
  EXPECT_EQ(without_body.parts[0].kind, PartKind::pdf);
}

TEST(RenderMimeDocument, RefusesUnsupportedAttachmentsNamingThePart) {
  auto failure = parse_failure(
      mail(multipart("mixed", {{"Content-Type: multipart/alternative; boundary=inner\r\n",
                                "--inner\r\nContent-Type: text/plain\r\n\r\nx\r\n--inner\r\n"
                                "Content-Type: text/html\r\n\r\n<p>x</p>\r\n--inner--\r\n"},
                               attachment("application/zip", "report.zip", "PK\x03\x04")}),
           ""));
  EXPECT_EQ(failure.status, "5.6.1");
  EXPECT_EQ(failure.text,
            "part 3 (application/zip, \"report.zip\") cannot be faxed: only text, HTML, PDF, "
            "TIFF, PNG and JPEG can");
  auto word =
      parse_failure(mail(multipart("mixed", {text_part("text/plain", "utf-8", "x"),
                                             attachment("application/msword", "report.doc", "xx")}),
                         ""));
  EXPECT_EQ(word.text.rfind("part 2 (application/msword, \"report.doc\") cannot be faxed", 0), 0u);
}

TEST(RenderMimeDocument, SniffsOctetStreamByNameAndMagic) {
  auto doc = parse_ok(mail(
      multipart("mixed",
                {attachment("application/octet-stream", "scan.PDF", "%PDF-1.7 x"),
                 attachment("application/octet-stream", "fax.tif", std::string("II*\0xxxx", 8)),
                 attachment("application/octet-stream", "p.jpg", "\xFF\xD8\xFF\xE0")}),
      ""));
  ASSERT_EQ(doc.parts.size(), 3u);
  EXPECT_EQ(doc.parts[0].kind, PartKind::pdf);
  EXPECT_EQ(doc.parts[1].kind, PartKind::tiff);
  EXPECT_EQ(doc.parts[2].kind, PartKind::jpeg);
  // The name says PDF, the content does not: refused.
  auto failure = parse_failure(mail(
      multipart("mixed", {attachment("application/octet-stream", "fake.pdf", "MZ\x90\x00")}), ""));
  EXPECT_NE(failure.text.find("part 1 (application/octet-stream, \"fake.pdf\")"),
            std::string::npos);
}

TEST(RenderMimeDocument, SignedMailFaxesTheContentNotTheSignature) {
  std::string signed_body =
      "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
      "micalg=sha-256; boundary=sig\r\n\r\n"
      "--sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsigned text\r\n"
      "--sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nMIIB\r\n--sig--\r\n";
  auto doc = parse_ok(mail(signed_body, ""));
  ASSERT_EQ(doc.parts.size(), 1u);
  EXPECT_EQ(doc.parts[0].data, "signed text");
}

TEST(RenderMimeDocument, EncryptedMailIsRefused) {
  auto failure = parse_failure(mail(
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\r\n",
      "\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
      "--e\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n"
      "--e--\r\n"));
  EXPECT_EQ(failure.status, "5.6.1");
  EXPECT_NE(failure.text.find("encrypted"), std::string::npos);
}

TEST(RenderMimeDocument, ForwardedMailIsFaxedWithItsHeaders) {
  std::string inner =
      "From: Bob <bob@example.com>\r\nSubject: Original\r\nContent-Type: text/plain\r\n\r\n"
      "inner text\r\n";
  auto doc = parse_ok(mail(multipart("mixed", {text_part("text/plain", "utf-8", "see below"),
                                               {"Content-Type: message/rfc822\r\n", inner}}),
                           ""));
  ASSERT_EQ(doc.parts.size(), 2u);
  EXPECT_TRUE(doc.parts[0].is_body);
  EXPECT_FALSE(doc.parts[1].is_body);
  EXPECT_NE(doc.parts[1].data.find("Subject: Original"), std::string::npos);
  EXPECT_NE(doc.parts[1].data.find("bob@example.com"), std::string::npos);
  EXPECT_NE(doc.parts[1].data.find("inner text"), std::string::npos);
}

TEST(RenderMimeDocument, LimitsDepthAndPartCount) {
  std::string nested = "Content-Type: text/plain\r\n\r\nx\r\n";
  for (int i = 0; i < 30; ++i)
    nested = "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
             std::to_string(i) + "\r\n" + nested + "\r\n--b" + std::to_string(i) + "--\r\n";
  auto deep = parse_failure("From: a@b\r\nMIME-Version: 1.0\r\n" + nested);
  EXPECT_EQ(deep.status, "5.6.1");
  EXPECT_NE(deep.text.find("nested"), std::string::npos);

  std::vector<test::MimePart> many(20, text_part("text/plain", "utf-8", "x"));
  RenderLimits limits;
  limits.max_mime_parts = 10;
  auto too_many = parse_failure(mail(multipart("mixed", many), ""), limits);
  EXPECT_NE(too_many.text.find("more than 10 MIME parts"), std::string::npos);

  limits = {};
  limits.max_text_bytes = 100;
  auto too_long =
      parse_failure(mail("Content-Type: text/plain\r\n", std::string(200, 'a')), limits);
  EXPECT_EQ(too_long.status, "5.3.4");
}

TEST(RenderMimeDocument, DescribesPartsSafely) {
  EXPECT_EQ(describe_part(4, "image/gif", ""), "part 4 (image/gif)");
  EXPECT_EQ(describe_part(1, "x/y", "a\r\nb"), "part 1 (x/y, \"a__b\")");
  std::string long_name(300, 'n');
  EXPECT_EQ(describe_part(1, "x/y", long_name),
            "part 1 (x/y, \"" + std::string(80, 'n') + "...\")");
}

}  // namespace
}  // namespace bh::render
