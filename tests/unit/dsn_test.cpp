#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "mail/dsn.hpp"
#include "render/gmime_part.hpp"
#include "render/gobject_ptr.hpp"

using namespace bh;

namespace {
Envelope original() {
  Envelope e;
  e.queue_id = "0006610AAAAA0001";
  e.arrival = 1795000000;
  e.sender = Address{"alice", "origin.test"};
  e.envid = "ENV-42";
  e.recipients.push_back({Address{"bob", "example.test"}, 0, "rfc822;bob@example.test"});
  return e;
}
}  // namespace

TEST(Dsn, WhoWantsWhichReport) {
  Recipient plain{Address{"b", "x"}};
  EXPECT_TRUE(dsn_wanted(plain, DsnKind::failure));
  EXPECT_TRUE(dsn_wanted(plain, DsnKind::delay));
  EXPECT_FALSE(dsn_wanted(plain, DsnKind::success));
  Recipient never{Address{"b", "x"}, notify_never};
  EXPECT_FALSE(dsn_wanted(never, DsnKind::failure));
  Recipient success{Address{"b", "x"}, notify_success};
  EXPECT_TRUE(dsn_wanted(success, DsnKind::success));
  EXPECT_FALSE(dsn_wanted(success, DsnKind::failure));
}

TEST(Dsn, FailureReportHasEveryField) {
  Envelope e = original();
  std::string content = "Subject: hello\r\n\r\nbody\r\n";
  DsnRequest request;
  request.kind = DsnKind::failure;
  request.original = &e;
  request.original_content = content;
  request.reporting_host = "gw.example";
  request.now = 1795000100;
  request.recipients.push_back(
      {e.recipients[0], "failed", "5.1.1", "mx.example.test", "550 5.1.1 no such user"});
  std::string dsn = build_dsn(request, "0006610BBBBB0001");
  for (const char* expected :
       {"From: MAILER-DAEMON@gw.example", "To: <alice@origin.test>",
        "Content-Type: multipart/report; report-type=delivery-status;",
        "Content-Type: message/delivery-status", "Reporting-MTA: dns; gw.example",
        "Original-Envelope-Id: ENV-42", "Final-Recipient: rfc822; bob@example.test",
        "Original-Recipient: rfc822; bob@example.test", "Action: failed", "Status: 5.1.1",
        "Remote-MTA: dns; mx.example.test", "Diagnostic-Code: smtp; 550 5.1.1 no such user",
        "Content-Type: message/rfc822\r\n\r\nSubject: hello\r\n\r\nbody\r\n"}) {
    EXPECT_NE(dsn.find(expected), std::string::npos) << expected << "\n" << dsn;
  }
  Envelope envelope = dsn_envelope(request, "0006610BBBBB0001");
  EXPECT_TRUE(envelope.sender.null());
  EXPECT_EQ(envelope.recipients.at(0).address.text(), "alice@origin.test");
}

TEST(Dsn, HeadersOnlyWhenAsked) {
  Envelope e = original();
  e.ret = DsnReturn::headers;
  std::string content = "Subject: hello\r\n\r\nsecret body\r\n";
  DsnRequest request{DsnKind::failure, &e, content, {}, "gw", 1, 0, 50000};
  std::string dsn = build_dsn(request, "ID");
  EXPECT_NE(dsn.find("text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(dsn.find("secret body"), std::string::npos);
}

namespace {

// The request of a one-recipient report.
struct OneRecipient {
  Envelope envelope = original();
  std::string content = "Subject: hello\r\n\r\nbody\r\n";
  DsnRequest request;

  OneRecipient(DsnKind kind, DsnRecipient recipient) {
    request.kind = kind;
    request.original = &envelope;
    request.original_content = content;
    request.reporting_host = "gw.example";
    request.now = 1795000100;
    recipient.recipient = envelope.recipients[0];
    request.recipients.push_back(std::move(recipient));
  }
  std::string build() const { return build_dsn(request, "0006610BBBBB0001"); }
};

DsnRecipient line(std::string action, std::string status, std::string remote_mta,
                  std::string diagnostic, std::string type = "smtp") {
  return {Recipient{},           std::move(action),     std::move(status),
          std::move(remote_mta), std::move(diagnostic), std::move(type)};
}

// The boundary the report's Content-Type names.
std::string report_boundary(const std::string& dsn) {
  const std::string key = "multipart/report; report-type=delivery-status;\r\n\tboundary=\"";
  std::size_t at = dsn.find(key);
  if (at == std::string::npos) return "(none)";
  at += key.size();
  return dsn.substr(at, dsn.find('"', at) - at);
}

// The part after the first (human-readable) boundary, up to the next one.
std::string part(const std::string& dsn, int index) {
  const std::string delimiter = "\r\n--" + report_boundary(dsn);
  std::string boundary = delimiter + "\r\n";
  std::size_t start = 0;
  for (int i = 0; i <= index; ++i) {
    start = dsn.find(boundary, start);
    if (start == std::string::npos) return "";
    start += boundary.size();
  }
  std::size_t end = dsn.find(delimiter, start);
  return dsn.substr(start, end - start);
}

// RFC 2045 6.7 decoding, strict enough for the test: =XX and soft breaks.
std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out.push_back(text[i]);
    } else if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

std::string body_of(const std::string& part) {
  std::size_t blank = part.find("\r\n\r\n");
  return blank == std::string::npos ? "" : part.substr(blank + 4);
}

bool contains(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

TEST(Dsn, DiagnosticTypeIsTheResultsOwn) {
  std::string fax =
      OneRecipient(DsnKind::failure, line("failed", "5.4.0", "fax.example.test", "busy", "x-fax"))
          .build();
  EXPECT_TRUE(contains(fax, "\r\nDiagnostic-Code: x-fax; busy\r\n")) << fax;
  std::string smtp =
      OneRecipient(DsnKind::failure, line("failed", "5.1.1", "mx.example.test", "550 no")).build();
  EXPECT_TRUE(contains(smtp, "\r\nDiagnostic-Code: smtp; 550 no\r\n")) << smtp;
  // No peer: our own reason, whatever the type says.
  std::string own = OneRecipient(DsnKind::failure, line("failed", "5.3.0", "", "no route")).build();
  EXPECT_TRUE(contains(own, "\r\nDiagnostic-Code: x-bridgehead; no route\r\n")) << own;
  // A type that is not an atom is not written.
  std::string bad = OneRecipient(DsnKind::failure, line("failed", "5.4.0", "mx.example.test",
                                                        "busy", "x fax;\r\nX-Evil: 1"))
                        .build();
  EXPECT_TRUE(contains(bad, "\r\nDiagnostic-Code: x-bridgehead; busy\r\n")) << bad;
  EXPECT_FALSE(contains(bad, "X-Evil")) << bad;
}

TEST(Dsn, RemoteMtaOnlyWhenItIsAHost) {
  auto remote_mta_of = [](const std::string& remote_mta) {
    std::string dsn =
        OneRecipient(DsnKind::failure, line("failed", "5.4.0", remote_mta, "busy", "x-fax"))
            .build();
    std::size_t at = dsn.find("\r\nRemote-MTA: ");
    if (at == std::string::npos) return std::string("(none)");
    return dsn.substr(at + 2, dsn.find("\r\n", at + 2) - at - 2);
  };
  EXPECT_EQ(remote_mta_of("hylafax.example.test"), "Remote-MTA: dns; hylafax.example.test");
  EXPECT_EQ(remote_mta_of("192.0.2.7"), "Remote-MTA: dns; [192.0.2.7]");
  EXPECT_EQ(remote_mta_of("[192.0.2.7]"), "Remote-MTA: dns; [192.0.2.7]");
  EXPECT_EQ(remote_mta_of("2001:db8::7"), "Remote-MTA: dns; [IPv6:2001:db8::7]");
  EXPECT_EQ(remote_mta_of("[IPv6:2001:db8::7]"), "Remote-MTA: dns; [IPv6:2001:db8::7]");
  EXPECT_EQ(remote_mta_of("hylafax 127.0.0.1:4559"), "(none)");
  EXPECT_EQ(remote_mta_of("spool /var/spool/fax"), "(none)");
  EXPECT_EQ(remote_mta_of("https://hook.example.test/x"), "(none)");
  EXPECT_EQ(remote_mta_of(""), "(none)");
}

TEST(Dsn, HumanPartIsUtf8AndTheStatusPartAscii) {
  std::string reason = "550 5.7.1 attachment M\xC3\xA4rz.zip refused \xE2\x80\x94 " +
                       std::string(100, 'x') + " = end  ";
  OneRecipient report(DsnKind::failure, line("failed", "5.7.1", "mx.example.test", reason));
  std::string dsn = report.build();
  std::string human = part(dsn, 0);
  EXPECT_TRUE(
      human.starts_with("Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"))
      << human;
  std::string encoded = body_of(human);
  for (unsigned char c : encoded) EXPECT_TRUE(c < 0x80) << dsn;
  std::size_t start = 0;
  for (std::size_t end; (end = encoded.find("\r\n", start)) != std::string::npos; start = end + 2)
    EXPECT_LE(end - start, 76u) << encoded.substr(start, end - start);
  std::string decoded = decode_quoted_printable(encoded);
  EXPECT_TRUE(contains(decoded, "<bob@example.test>: " + reason + "\r\n")) << decoded;
  // The machine-readable part stays ASCII (RFC 3464, not RFC 6533).
  std::string status = part(dsn, 1);
  EXPECT_TRUE(status.starts_with("Content-Type: message/delivery-status\r\n")) << status;
  for (unsigned char c : status) EXPECT_TRUE(c < 0x80) << status;
  EXPECT_TRUE(contains(status, "Diagnostic-Code: smtp; 550 5.7.1 attachment M??rz.zip")) << status;
  // Controls in a peer's text are escaped in the human part too.
  std::string evil = decode_quoted_printable(body_of(
      part(OneRecipient(DsnKind::failure, line("failed", "5.0.0", "mx.example.test", "a\x1b[2Jb"))
               .build(),
           0)));
  EXPECT_TRUE(contains(evil, "a\\x1B[2Jb")) << evil;
}

TEST(Dsn, FaxSuccessReadsAsAShortReport) {
  std::string diagnostic =
      "fax to +49 30 123456 was sent: 3 of 3 pages in 41 s, remote station \"+49 30 999\"";
  OneRecipient report(DsnKind::success,
                      line("delivered", "2.0.0", "fax.example.test", diagnostic, "x-fax"));
  std::string dsn = report.build();
  EXPECT_TRUE(contains(dsn, "\r\nSubject: Your fax was sent\r\n")) << dsn;
  std::string human = decode_quoted_printable(body_of(part(dsn, 0)));
  EXPECT_TRUE(human.starts_with("Your " + diagnostic + ".\r\n")) << human;
  EXPECT_TRUE(contains(human, "gw.example")) << human;
  std::string status = part(dsn, 1);
  EXPECT_TRUE(contains(status, "\r\nAction: delivered\r\nStatus: 2.0.0\r\n")) << status;
  EXPECT_TRUE(contains(status, "\r\nDiagnostic-Code: x-fax; " + diagnostic + "\r\n")) << status;
  // A mail success report keeps the general wording.
  std::string mail =
      OneRecipient(DsnKind::success, line("delivered", "2.0.0", "mx.example.test", "250 ok"))
          .build();
  EXPECT_TRUE(contains(mail, "\r\nSubject: Successful Mail Delivery Report\r\n")) << mail;
  EXPECT_TRUE(contains(decode_quoted_printable(body_of(part(mail, 0))),
                       "Your message was delivered to the recipients listed below."))
      << mail;
}

// RecipientResult::report of any connector (an SMS connector's
// success_notice = "report"): the short report, worded by the connector's
// diagnostic type; without the flag an SMS success is the general DSN.
TEST(Dsn, ReportedSmsSuccessReadsAsAShortReport) {
  std::string diagnostic = "SMS to +49 170 1234567 was delivered (2 parts)";
  DsnRecipient sms = line("delivered", "2.0.0", "smsc.example.test", diagnostic, "x-smpp");
  sms.report = true;
  std::string dsn = OneRecipient(DsnKind::success, sms).build();
  EXPECT_TRUE(contains(dsn, "\r\nSubject: Your SMS was delivered\r\n")) << dsn;
  std::string human = decode_quoted_printable(body_of(part(dsn, 0)));
  EXPECT_TRUE(human.starts_with("Your " + diagnostic + ".\r\n")) << human;
  EXPECT_FALSE(contains(human, "listed below")) << human;
  EXPECT_TRUE(contains(part(dsn, 1), "\r\nDiagnostic-Code: x-smpp; " + diagnostic + "\r\n")) << dsn;

  sms.report = false;  // NOTIFY=SUCCESS with success_notice = "dsn"
  std::string plain = OneRecipient(DsnKind::success, sms).build();
  EXPECT_TRUE(contains(plain, "\r\nSubject: Successful Mail Delivery Report\r\n")) << plain;
  EXPECT_TRUE(contains(decode_quoted_printable(body_of(part(plain, 0))),
                       "Your message was delivered to the recipients listed below."))
      << plain;

  // Another connector's report without a text of its own names the recipient.
  DsnRecipient other = line("delivered", "2.0.0", "hook.example.test", "", "x-hook");
  other.report = true;
  std::string hook = OneRecipient(DsnKind::success, other).build();
  EXPECT_TRUE(contains(hook, "\r\nSubject: Your message was delivered\r\n")) << hook;
  EXPECT_TRUE(decode_quoted_printable(body_of(part(hook, 0)))
                  .starts_with("Your message to bob@example.test was delivered.\r\n"))
      << hook;
  // A failure is never a short report, whatever the flag.
  DsnRecipient failed = line("failed", "5.4.0", "smsc.example.test", "stat:UNDELIV", "x-smpp");
  failed.report = true;
  EXPECT_TRUE(contains(OneRecipient(DsnKind::failure, failed).build(),
                       "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
}

namespace {

std::string fake_png(std::size_t size) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (std::size_t i = png.size(); i < size; ++i) png.push_back(static_cast<char>(i * 7 % 256));
  return png;
}

// The report as GMime reads it: the top level's parts, and the human
// part's parts when it is multipart.
struct ParsedReport {
  std::vector<std::string> types;                             // of the report's parts
  std::vector<std::string> human_types;                       // of the human part's parts
  std::vector<std::string> dispositions, filenames, decoded;  // of the human part's leaves
};

ParsedReport parse_with_gmime(const std::string& dsn) {
  render::init_gmime_once();
  ParsedReport out;
  render::GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(dsn.data(), dsn.size()));
  render::GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  render::GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return out;
  GMimeObject* root = g_mime_message_get_mime_part(message.get());
  if (!GMIME_IS_MULTIPART(root)) return out;
  out.types.push_back(render::mime_type_of(root));
  GMimeMultipart* report = GMIME_MULTIPART(root);
  for (int i = 0; i < g_mime_multipart_get_count(report); ++i)
    out.types.push_back(render::mime_type_of(g_mime_multipart_get_part(report, i)));
  GMimeObject* human = g_mime_multipart_get_part(report, 0);
  if (!GMIME_IS_MULTIPART(human)) return out;
  GMimeMultipart* mixed = GMIME_MULTIPART(human);
  for (int i = 0; i < g_mime_multipart_get_count(mixed); ++i) {
    GMimeObject* leaf = g_mime_multipart_get_part(mixed, i);
    out.human_types.push_back(render::mime_type_of(leaf));
    const char* disposition = g_mime_object_get_disposition(leaf);
    out.dispositions.push_back(disposition ? disposition : "");
    const char* filename = GMIME_IS_PART(leaf) ? g_mime_part_get_filename(GMIME_PART(leaf)) : "";
    out.filenames.push_back(filename ? filename : "");
    out.decoded.push_back(
        GMIME_IS_PART(leaf) ? render::decoded_part_bytes(GMIME_PART(leaf), nullptr) : "");
  }
  return out;
}

}  // namespace

// A success report with a picture: the human-readable part becomes
// multipart/mixed (the text, then the image inline in base64, lines of 76
// characters), and the report keeps its three parts (RFC 6522).
TEST(Dsn, SuccessReportCarriesTheImageInline) {
  std::string diagnostic = "fax to +49 30 123456 was sent: 1 of 1 pages";
  OneRecipient report(DsnKind::success,
                      line("delivered", "2.0.0", "fax.example.test", diagnostic, "x-fax"));
  std::string png = fake_png(5000);
  report.request.attachments.push_back({"image/png", "page1.png", "page one of the fax", png});
  std::string dsn = report.build();

  ParsedReport parsed = parse_with_gmime(dsn);
  EXPECT_EQ(parsed.types,
            (std::vector<std::string>{"multipart/report", "multipart/mixed",
                                      "message/delivery-status", "text/rfc822-headers"}))
      << dsn;
  EXPECT_EQ(parsed.human_types, (std::vector<std::string>{"text/plain", "image/png"})) << dsn;
  ASSERT_EQ(parsed.decoded.size(), 2u);
  EXPECT_EQ(parsed.dispositions[1], "inline");
  EXPECT_EQ(parsed.filenames[1], "page1.png");
  EXPECT_EQ(parsed.decoded[1], png);
  EXPECT_TRUE(parsed.decoded[0].starts_with("Your " + diagnostic + ".\r\n")) << parsed.decoded[0];
  EXPECT_TRUE(contains(parsed.decoded[0], "Attached: page1.png, page one of the fax.\r\n"))
      << parsed.decoded[0];

  std::size_t base64 = dsn.find("Content-Transfer-Encoding: base64\r\n\r\n");
  ASSERT_NE(base64, std::string::npos) << dsn;
  std::string_view body = std::string_view(dsn).substr(base64 + 37);
  body = body.substr(0, body.find("\r\n--"));
  std::size_t longest = 0;
  for (std::size_t start = 0, end; (end = body.find("\r\n", start)) != std::string::npos;
       start = end + 2)
    longest = std::max(longest, end - start);
  EXPECT_EQ(longest, 76u);
  EXPECT_TRUE(contains(dsn, "Content-Disposition: inline;\r\n\tfilename=\"page1.png\"\r\n")) << dsn;
  for (unsigned char c : dsn) ASSERT_TRUE(c < 0x80) << "the report is 7-bit";
}

// A failure or delay DSN never carries one; names and types are made safe
// and unique.
TEST(Dsn, AttachmentsOnlyInSuccessReportsWithSafeNames) {
  for (DsnKind kind : {DsnKind::failure, DsnKind::delay}) {
    OneRecipient report(kind, line("failed", "5.4.0", "fax.example.test", "busy", "x-fax"));
    report.request.attachments.push_back({"image/png", "page1.png", "", fake_png(100)});
    std::string dsn = report.build();
    EXPECT_FALSE(contains(dsn, "image/png")) << dsn;
    EXPECT_FALSE(contains(dsn, "multipart/mixed")) << dsn;
    EXPECT_FALSE(contains(dsn, "Attached:")) << dsn;
  }
  OneRecipient report(DsnKind::success,
                      line("delivered", "2.0.0", "fax.example.test", "fax sent", "x-fax"));
  report.request.attachments = {
      {"image/png", "page1.png", "", fake_png(100)},
      {"image/png", "page1.png", "", fake_png(200)},
      {"text/html\r\nX-Evil: 1", "../\"x\".png\r\nX-Evil: 2", "\x1b[2J", "abc"},
      {"image/png", "", "", "def"}};
  ParsedReport parsed = parse_with_gmime(report.build());
  EXPECT_EQ(parsed.filenames, (std::vector<std::string>{"", "page1.png", "page1-2.png",
                                                        "attachment3", "attachment4"}));
  EXPECT_EQ(parsed.human_types[3], "application/octet-stream");
  EXPECT_FALSE(contains(report.build(), "X-Evil:"));
  EXPECT_EQ(parsed.decoded[3], "abc");
}

// The boundaries stay within RFC 2046's 70 characters however long the
// queue id and host name are, differ between reports and between the
// report and its mixed part (neither a prefix of the other), and GMime
// finds every part with them.
TEST(Dsn, BoundariesAreShortAndDistinct) {
  OneRecipient report(DsnKind::success,
                      line("delivered", "2.0.0", "fax.example.test", "fax sent", "x-fax"));
  report.request.reporting_host = std::string(200, 'h') + ".example";
  report.request.attachments.push_back({"image/png", "page1.png", "", fake_png(100)});
  const std::string long_id(60, '7');
  std::string dsn = build_dsn(report.request, long_id);
  std::vector<std::string> boundaries;
  for (std::size_t at = 0; (at = dsn.find("boundary=\"", at)) != std::string::npos;) {
    at += 10;
    boundaries.push_back(dsn.substr(at, dsn.find('"', at) - at));
  }
  ASSERT_EQ(boundaries.size(), 2u) << dsn;
  for (const std::string& b : boundaries) {
    EXPECT_LE(b.size(), 70u) << b;
    EXPECT_TRUE(b.starts_with("=_bh_")) << b;
  }
  EXPECT_FALSE(boundaries[1].starts_with(boundaries[0]));
  EXPECT_FALSE(boundaries[0].starts_with(boundaries[1]));
  std::string other = build_dsn(report.request, long_id + "8");
  EXPECT_EQ(other.find(boundaries[0]), std::string::npos) << "another report, another boundary";
  ParsedReport parsed = parse_with_gmime(dsn);
  EXPECT_EQ(parsed.types,
            (std::vector<std::string>{"multipart/report", "multipart/mixed",
                                      "message/delivery-status", "text/rfc822-headers"}))
      << dsn;
}

// RET=HDRS: the sender asked for headers only, so no picture either.
TEST(Dsn, NoAttachmentWhenOnlyHeadersAreWanted) {
  OneRecipient report(DsnKind::success,
                      line("delivered", "2.0.0", "fax.example.test", "fax sent", "x-fax"));
  report.envelope.ret = DsnReturn::headers;
  report.request.attachments.push_back({"image/png", "page1.png", "", fake_png(100)});
  std::string dsn = report.build();
  EXPECT_FALSE(contains(dsn, "image/png")) << dsn;
  EXPECT_FALSE(contains(dsn, "Attached:")) << dsn;
}
