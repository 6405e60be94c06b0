// The webhook's JSON document and the MIME walker and decoders behind it.
#include <gtest/gtest.h>

#include "connectors/webhook/json.hpp"
#include "connectors/webhook/mime_decode.hpp"
#include "connectors/webhook/mime_walk.hpp"
#include "connectors/webhook/payload.hpp"

namespace wh = bh::connectors::webhook;

namespace {

std::string crlf(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

const std::string kMixed = crlf(R"(From: Ann <ann@origin.test>
To: fax@example.test
Subject: =?utf-8?B?R3LDvMOfZQ==?= from
 =?iso-8859-1?Q?M=FCller?=
X-Bridgehead-Processed: secret stamp
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe, a long line that is =
soft-broken.
--inner
Content-Type: text/html

<p>Gr&uuml;&szlig;e</p>
--inner--
--outer
Content-Type: application/pdf; name="ignored.pdf"
Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20invoice.pdf
Content-Transfer-Encoding: base64

JVBERi0x
LjQK
--outer--
epilogue
)");

}  // namespace

TEST(WebhookMime, Base64BothWays) {
  for (std::string text : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                           std::string("abcd"), std::string("\x00\xff\x10", 3)}) {
    std::string b64;
    wh::append_base64(b64, text);
    EXPECT_EQ(wh::decode_base64(b64), text);
  }
  std::string b64;
  wh::append_base64(b64, "Hello!?");
  EXPECT_EQ(b64, "SGVsbG8hPw==");
  EXPECT_EQ(wh::decode_base64("SGVs\r\nbG8h*Pw=="), "Hello!?");  // junk skipped (RFC 2045)
}

TEST(WebhookMime, QuotedPrintableAndEncodedWords) {
  EXPECT_EQ(wh::decode_quoted_printable("a=3Db=\r\nc  \r\n=XY="), "a=bc\r\n=XY=");
  EXPECT_EQ(wh::decode_encoded_words("=?UTF-8?Q?caf=C3=A9_au_lait?= =?utf-8?B?IQ==?= ok"),
            "caf\xc3\xa9 au lait! ok");
  EXPECT_EQ(wh::decode_encoded_words("=?koi8-r?B?8NLJ?= plain"), "=?koi8-r?B?8NLJ?= plain");
  EXPECT_EQ(wh::to_utf8("\xe9", "ISO-8859-1"), "\xc3\xa9");
  EXPECT_EQ(wh::decode_rfc2231("utf-8'en'%E2%82%AC"), "\xe2\x82\xac");
}

TEST(WebhookMime, Parameters) {
  auto p = wh::parse_parameters(R"(Multipart/Mixed; Boundary="a;b\"c"; charset=utf-8 )");
  EXPECT_EQ(p.token, "multipart/mixed");
  EXPECT_EQ(p.get("boundary"), "a;b\"c");
  EXPECT_EQ(p.get("charset"), "utf-8");
}

TEST(WebhookMime, FindsTheTextAndTheAttachments) {
  wh::MailText mail = wh::walk_mime(kMixed, true);
  EXPECT_EQ(mail.text,
            "Gr\xc3\xbc\xc3\x9f"
            "e, a long line that is soft-broken.");
  ASSERT_EQ(mail.attachments.size(), 1u);  // the HTML alternative is not one
  EXPECT_EQ(mail.attachments[0].filename, "\xe2\x82\xac invoice.pdf");
  EXPECT_EQ(mail.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(mail.attachments[0].data, "%PDF-1.4\n");
  EXPECT_TRUE(wh::walk_mime(kMixed, false).attachments.empty());
}

TEST(WebhookMime, NotMultipartIsTheBody) {
  std::string plain = crlf("Subject: x\n\nline one\nline two\n");
  EXPECT_EQ(wh::walk_mime(plain, true).text, crlf("line one\nline two\n"));
  std::string b64 = crlf("Content-Transfer-Encoding: base64\n\naMOpbGxv\n");
  EXPECT_EQ(wh::walk_mime(b64, true).text, "h\xc3\xa9llo");
  std::string nothing = crlf("Subject: only a header\n");
  EXPECT_EQ(wh::walk_mime(nothing, true).text, "");
}

TEST(WebhookMime, IsBounded) {
  // Deeper than the walker goes: no text found, and no crash.
  std::string deep;
  for (int i = 0; i < 50; ++i)
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  deep += "\r\ndeep text\r\n";
  EXPECT_EQ(wh::walk_mime(deep, true).text, "");
  std::string many = "Content-Type: multipart/mixed; boundary=z\r\n\r\n";
  for (int i = 0; i < 1000; ++i) many += "--z\r\nContent-Type: application/x\r\n\r\nq\r\n";
  many += "--z--\r\n";
  EXPECT_LE(wh::walk_mime(many, true).attachments.size(), 200u);
}

TEST(WebhookPayload, TheDocument) {
  auto message = std::make_shared<bh::queue::QueuedMessage>();
  message->envelope.queue_id = "Q123";
  message->envelope.sender = {"ann", "origin.test"};
  message->envelope.tenant = "tenant-guid";
  message->envelope.recipients = {{{"fax", "example.test"}}, {{"other", "example.test"}}};
  message->content = kMixed;
  bh::connectors::DeliveryRequest request{message, {1}};
  auto parsed = wh::parse_json(wh::webhook_payload(request, true), {1 << 20});
  ASSERT_TRUE(parsed) << parsed.error().message;
  const wh::JsonValue& doc = *parsed;
  EXPECT_EQ(*doc.member("id")->as_string(), "Q123");
  EXPECT_EQ(*doc.member("envelope")->member("from")->as_string(), "ann@origin.test");
  const auto& to = std::get<wh::JsonArray>(doc.member("envelope")->member("to")->value);
  ASSERT_EQ(to.size(), 1u);  // only the request's recipients
  EXPECT_EQ(*to[0].as_string(), "other@example.test");
  EXPECT_EQ(*doc.member("tenant")->as_string(), "tenant-guid");
  EXPECT_EQ(*doc.member("subject")->as_string(),
            "Gr\xc3\xbc\xc3\x9f"
            "e from M\xc3\xbcller");
  const auto& headers = std::get<wh::JsonArray>(doc.member("headers")->value);
  ASSERT_EQ(headers.size(), 5u);  // the control header is left out
  const auto& subject = std::get<wh::JsonArray>(headers[2].value);
  EXPECT_EQ(*subject[0].as_string(), "Subject");
  EXPECT_EQ(*subject[1].as_string(), "=?utf-8?B?R3LDvMOfZQ==?= from =?iso-8859-1?Q?M=FCller?=");
  for (const auto& header : headers)
    EXPECT_NE(*std::get<wh::JsonArray>(header.value)[0].as_string(), "X-Bridgehead-Processed");
  EXPECT_EQ(*doc.member("text")->as_string(),
            "Gr\xc3\xbc\xc3\x9f"
            "e, a long line that is soft-broken.");
  const auto& attachments = std::get<wh::JsonArray>(doc.member("attachments")->value);
  ASSERT_EQ(attachments.size(), 1u);
  EXPECT_EQ(*attachments[0].member("content_base64")->as_string(), "JVBERi0xLjQK");
  EXPECT_EQ(*attachments[0].member("content_type")->as_string(), "application/pdf");

  message->envelope.sender = {};
  message->envelope.tenant = "";
  message->content = crlf("To: x@example.test\n\n\x01\xff text\n");
  parsed = wh::parse_json(wh::webhook_payload(request, true));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed->member("envelope")->member("from")->as_string(), "");  // the null sender
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(parsed->member("tenant")->value));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(parsed->member("subject")->value));
  EXPECT_EQ(*parsed->member("text")->as_string(), "\x01\xef\xbf\xbd text\r\n");
}
