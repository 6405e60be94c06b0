// Mail -> SMS text: real mails (charsets, transfer encodings, multiparts,
// HTML) parsed by GMime, then the clean-up (quotes, signatures, patterns,
// blank lines, controls) and the bounds.
#include "connectors/sms/sms_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "util/printable.hpp"

namespace {

using namespace bh;
using namespace bh::connectors::sms;

const TextRules kBody{};

std::string mail(std::string_view headers, std::string_view body) {
  return "From: anna@example.com\r\nTo: +491701234567@sms.example.com\r\n"
         "Subject: Hi\r\nMIME-Version: 1.0\r\n" +
         std::string(headers) + "\r\n" + std::string(body);
}

std::string text_of(const std::string& message, const TextRules& rules = kBody) {
  auto text = sms_text_of_mail(message, rules);
  return text ? *text : "<error: " + text.error().message + ">";
}

TextRules with_source(TextSource source) {
  TextRules rules;
  rules.source = source;
  return rules;
}

TEST(SmsText, PlainAsciiBody) {
  EXPECT_EQ(text_of(mail("Content-Type: text/plain\r\n", "Hello world.\r\nSee you.\r\n")),
            "Hello world.\nSee you.");
  // No MIME header at all: text/plain, US-ASCII.
  EXPECT_EQ(text_of("Subject: x\r\n\r\nJust text\r\n"), "Just text");
}

TEST(SmsText, Latin1QuotedPrintableBody) {
  std::string m = mail(
      "Content-Type: text/plain; charset=ISO-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n",
      "Gr=FC=DFe aus M=FCnchen, ein sehr langer Satz, der mit einem weichen Zeilen=\r\n"
      "umbruch weitergeht.\r\n");
  EXPECT_EQ(text_of(m),
            "Gr\xC3\xBC\xC3\x9F"
            "e aus M\xC3\xBCnchen, ein sehr langer Satz, der mit einem weichen "
            "Zeilenumbruch weitergeht.");
}

TEST(SmsText, Utf8Base64Body) {
  std::string m =
      mail("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n",
           "R3LDvMOfZSDwn5iAIGF1cyBLw7Zsbg==\r\n");
  EXPECT_EQ(text_of(m),
            "Gr\xC3\xBC\xC3\x9F"
            "e \xF0\x9F\x98\x80 aus K\xC3\xB6ln");
}

TEST(SmsText, Windows1252Body) {
  std::string m = mail(
      "Content-Type: text/plain; charset=windows-1252\r\n"
      "Content-Transfer-Encoding: 8bit\r\n",
      "\x80 5, \x93quoted\x94\r\n");
  EXPECT_EQ(text_of(m), "\xE2\x82\xAC 5, \xE2\x80\x9Cquoted\xE2\x80\x9D");
}

TEST(SmsText, JapaneseBodies) {
  const std::string konnichiwa = "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF";
  std::string jis = mail(
      "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
      "Content-Transfer-Encoding: 7bit\r\n",
      "\x1b$B$3$s$K$A$O\x1b(B\r\n");
  EXPECT_EQ(text_of(jis), konnichiwa);
  std::string sjis = mail(
      "Content-Type: text/plain; charset=Shift_JIS\r\n"
      "Content-Transfer-Encoding: 8bit\r\n",
      "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\r\n");
  EXPECT_EQ(text_of(sjis), konnichiwa);
}

TEST(SmsText, UnlabelledOrUnknownCharsetIsUtf8WhenValidElseLatin1) {
  EXPECT_EQ(text_of(mail("Content-Type: text/plain\r\n", "K\xC3\xB6ln\r\n")), "K\xC3\xB6ln");
  EXPECT_EQ(text_of(mail("Content-Type: text/plain\r\n", "K\xF6ln\r\n")), "K\xC3\xB6ln");
  EXPECT_EQ(text_of(mail("Content-Type: text/plain; charset=x-nobody-knows\r\n", "K\xF6ln\r\n")),
            "K\xC3\xB6ln");
  // Labelled UTF-8 but broken: U+FFFD, never invalid UTF-8 in the SMS.
  std::string broken = text_of(mail("Content-Type: text/plain; charset=utf-8\r\n", "K\xF6ln\r\n"));
  EXPECT_EQ(broken, "K\xEF\xBF\xBDln");
}

TEST(SmsText, HtmlOnlyBodyBecomesText) {
  std::string m = mail("Content-Type: text/html; charset=utf-8\r\n",
                       "<html><head><style>p { color: red }</style></head><body>"
                       "<p>Hello <b>there</b>,</p><p>see&nbsp;you &amp; bye</p></body></html>\r\n");
  EXPECT_EQ(text_of(m), "Hello there,\n\nsee you & bye");
}

TEST(SmsText, AlternativePrefersPlainText) {
  std::string m = mail("Content-Type: multipart/alternative; boundary=\"alt\"\r\n",
                       "--alt\r\nContent-Type: text/html\r\n\r\n<p>The HTML</p>\r\n"
                       "--alt\r\nContent-Type: text/plain\r\n\r\nThe plain text\r\n"
                       "--alt--\r\n");
  EXPECT_EQ(text_of(m), "The plain text");
  // Without a plain part: the HTML one.
  std::string html_only = mail("Content-Type: multipart/alternative; boundary=\"alt\"\r\n",
                               "--alt\r\nContent-Type: image/png\r\n\r\nxxx\r\n"
                               "--alt\r\nContent-Type: text/html\r\n\r\n<p>The HTML</p>\r\n"
                               "--alt--\r\n");
  EXPECT_EQ(text_of(html_only), "The HTML");
}

TEST(SmsText, AttachmentIsIgnored) {
  std::string m =
      mail("Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
           "--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
           "filename=\"notes.txt\"\r\n\r\nAttached notes\r\n"
           "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
           "--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe real body\r\n"
           "--b2\r\nContent-Type: text/html\r\n\r\n<p>The real body</p>\r\n--b2--\r\n"
           "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n");
  EXPECT_EQ(text_of(m), "The real body");
  // A mail that is only an attachment has no text (the caller refuses it).
  std::string only = mail("Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
                          "--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n"
                          "\r\nAttached notes\r\n--b1--\r\n");
  EXPECT_EQ(text_of(only), "");
  // A forwarded mail is not the body either.
  std::string forwarded = mail("Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
                               "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
                               "Subject: inner\r\n\r\nInner text\r\n--b1--\r\n");
  EXPECT_EQ(text_of(forwarded), "");
}

TEST(SmsText, SubjectOnlyAndSubjectAndBody) {
  std::string m =
      "From: a@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?= =?ISO-8859-1?Q?aus_K=F6ln?=\r\n"
      "\r\nThe body\r\n";
  // Adjacent encoded words join without the space between them (RFC 2047).
  EXPECT_EQ(text_of(m, with_source(TextSource::subject)),
            "Gr\xC3\xBC\xC3\x9F"
            "eaus K\xC3\xB6ln");
  EXPECT_EQ(text_of(m, with_source(TextSource::subject_and_body)),
            "Gr\xC3\xBC\xC3\x9F"
            "eaus K\xC3\xB6ln\nThe body");
  EXPECT_EQ(text_of(m, with_source(TextSource::body)), "The body");
  // Only the part that is there when the other is empty.
  std::string no_body = "Subject: Call me\r\n\r\n\r\n";
  EXPECT_EQ(text_of(no_body, with_source(TextSource::subject_and_body)), "Call me");
  std::string no_subject = "From: a@example.com\r\n\r\nOnly body\r\n";
  EXPECT_EQ(text_of(no_subject, with_source(TextSource::subject_and_body)), "Only body");
  EXPECT_EQ(text_of(no_subject, with_source(TextSource::subject)), "");
  // A subject is cleaned (controls) but not cut like a body.
  std::string quoted = "Subject: > not a quote\r\n\r\n";
  EXPECT_EQ(text_of(quoted, with_source(TextSource::subject)), "> not a quote");
}

TEST(SmsText, QuotedRepliesAreCut) {
  TextRules rules;
  EXPECT_EQ(trim_text("Yes, fine.\n\n> Can we meet at 5?\n> Anna\n", rules), "Yes, fine.");
  EXPECT_EQ(trim_text("Yes.\n   >indented quote\n", rules), "Yes.");
  EXPECT_EQ(trim_text("Yes.\n\nOn Mon, 1 Dec 2025 at 10:00, Anna <anna@example.com> wrote:\n"
                      "Can we meet?\n",
                      rules),
            "Yes.");
  // The attribution wrapped by the mail client.
  EXPECT_EQ(trim_text("Yes.\nOn Mon, 1 Dec 2025 at 10:00, Anna Schmidt\n<anna@example.com> wrote:\n"
                      "Can we meet?\n",
                      rules),
            "Yes.");
  EXPECT_EQ(trim_text("Ja.\n\nAm 01.12.2025 um 10:00 schrieb Anna Schmidt <anna@example.com>:\n"
                      "> Treffen?\n",
                      rules),
            "Ja.");
  EXPECT_EQ(trim_text("Ja.\nAm 01.12.2025 um 10:00 schrieb Anna Schmidt\n<anna@example.com>:\n"
                      "Treffen?\n",
                      rules),
            "Ja.");
  // Outlook: the rule line and the header block (no "> " quoting below).
  EXPECT_EQ(trim_text("Fine by me.\n\n________________________________\nFrom: Anna Schmidt\n"
                      "Sent: Monday, 1 December 2025 10:00\nTo: Bob\nSubject: Meeting\n\nCan we?\n",
                      rules),
            "Fine by me.");
  EXPECT_EQ(trim_text("Passt.\n\nVon: Anna Schmidt <anna@example.com>\n"
                      "Gesendet: Montag, 1. Dezember 2025 10:00\nAn: Bob\nBetreff: Termin\n",
                      rules),
            "Passt.");
  EXPECT_EQ(trim_text("OK.\n-----Original Message-----\nFrom: Anna\nbla\n", rules), "OK.");
  EXPECT_EQ(trim_text("OK.\n-----Urspr\xC3\xBCngliche Nachricht-----\nVon: Anna\n", rules), "OK.");
  // Not quotes: "From:" without "Sent:" below, text mentioning "wrote".
  EXPECT_EQ(trim_text("From: the shop\nOn time, I wrote: hello\nAm Montag geht es.\n", rules),
            "From: the shop\nOn time, I wrote: hello\nAm Montag geht es.");
  // Off: everything stays.
  rules.trim_quotes = false;
  EXPECT_EQ(trim_text("Yes.\n> Can we meet?\n", rules), "Yes.\n> Can we meet?");
}

TEST(SmsText, QuotesAreCutInARealReplyMail) {
  std::string m = mail("Content-Type: text/plain; charset=utf-8\r\n",
                       "See you at 5.\r\n\r\nOn Mon, 1 Dec 2025, Anna wrote:\r\n> When?\r\n");
  EXPECT_EQ(text_of(m), "See you at 5.");
}

TEST(SmsText, SignatureIsCut) {
  TextRules rules;
  EXPECT_EQ(trim_text("See you.\n-- \nBob Builder\nACME Inc.\n", rules), "See you.");
  EXPECT_EQ(trim_text("See you.\n--\nBob\n", rules), "See you.");
  // Only the exact delimiter line.
  EXPECT_EQ(trim_text("a -- b\n--- \n", rules), "a -- b\n---");
  rules.trim_signature = false;
  EXPECT_EQ(trim_text("See you.\n-- \nBob\n", rules), "See you.\n--\nBob");
}

TEST(SmsText, CutPatternsEndTheText) {
  TextRules rules;
  rules.cut_patterns = {"^Sent from my ", "(?i)^confidential"};
  EXPECT_EQ(trim_text("On my way.\n\nSent from my iPhone\n", rules), "On my way.");
  EXPECT_EQ(trim_text("Hi.\nCONFIDENTIAL: this mail...\nmore\n", rules), "Hi.");
  // Anchored: in the middle of a line it is not the start of the line.
  EXPECT_EQ(trim_text("I was Sent from my desk\n", rules), "I was Sent from my desk");
  // A pattern RE2 cannot compile (the kind refuses it first) cuts nothing.
  rules.cut_patterns = {"(unclosed"};
  EXPECT_EQ(trim_text("Text (unclosed\n", rules), "Text (unclosed");
}

TEST(SmsText, BlankLinesCollapseAndWhitespaceIsTrimmed) {
  EXPECT_EQ(trim_text("\n\n  \nFirst   \n\n\n\nSecond\t\n \n\n", kBody), "First\n\nSecond");
  EXPECT_EQ(trim_text("a\r\nb\rc\n", kBody), "a\nb\nc");
  EXPECT_EQ(trim_text("   \n \n", kBody), "");
  // Leading spaces of a line are kept (indentation may mean something).
  EXPECT_EQ(trim_text("List:\n  - one\n", kBody), "List:\n  - one");
}

TEST(SmsText, ControlCharactersAreDroppedAndBadUtf8Replaced) {
  EXPECT_EQ(trim_text(std::string("a\x01"
                                  "b\x1b[31mc\x7f"
                                  "d\xC2\x85"
                                  "e\0f",
                                  16),
                      kBody),
            "ab[31mcdef");
  EXPECT_EQ(trim_text("tab\there", kBody), "tab here");
  EXPECT_EQ(trim_text("x\xFFy\xC0\xAFz", kBody), "x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBDz");
  // Invisible characters that would force UCS2 go; a no-break space is a space.
  EXPECT_EQ(trim_text("\xEF\xBB\xBFHi\xC2\xA0there\xE2\x80\x8B!", kBody), "Hi there!");
  // Line and paragraph separators are line breaks.
  EXPECT_EQ(trim_text("a\xE2\x80\xA8"
                      "b",
                      kBody),
            "a\nb");
  std::string m =
      mail("Content-Type: text/plain; charset=utf-8\r\n", "Bell\x07 and\x1b escape\r\n");
  EXPECT_EQ(text_of(m), "Bell and escape");
}

TEST(SmsText, MalformedMimeDoesNotCrash) {
  const std::string unparsable = "<error: the mail cannot be parsed as MIME>";
  struct Case {
    std::string message;
    std::string text;
  };
  std::vector<Case> cases = {
      // A multipart without a boundary: no parts, so no text.
      {mail("Content-Type: multipart/mixed\r\n", "--x\r\nContent-Type: text/plain\r\n\r\nA\r\n"),
       ""},
      // A boundary that never comes: all of it is the preamble, which mail
      // readers do not show either.
      {mail("Content-Type: multipart/mixed; boundary=never\r\n", "just text\r\n"), ""},
      // base64 that is all invalid characters decodes to nothing.
      {mail("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", "!!!*@@@===\r\n"),
       ""},
      {mail("Content-Type: text/plain; charset=\"\r\n", "x"), "x"},
      {std::string("\xFF\xFE\x00\x01garbage\r\n\r\n\x80\x81", 16), unparsable},
      {"Subject: only a header", ""},
      {"", unparsable},
      {"\r\n\r\n", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(text_of(c.message), c.text) << c.message;
}

TEST(SmsText, DeepOrWideMimeTreesAreBounded) {
  // 2000 nested multiparts: walked 10 deep, no further; no text found.
  std::string deep = "Subject: deep\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i < 2000; ++i)
    deep += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" +
            std::to_string(i) + "\"\r\n\r\n";
  deep += "--b1999\r\nContent-Type: text/plain\r\n\r\nToo deep\r\n";
  EXPECT_EQ(text_of(deep), "");
  // Within the depth the text is found.
  std::string shallow = "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i < 9; ++i)
    shallow += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" +
               std::to_string(i) + "\"\r\n\r\n";
  shallow += "--b8\r\nContent-Type: text/plain\r\n\r\nDeep enough\r\n";
  EXPECT_EQ(text_of(shallow), "Deep enough");
  // 150 attachments before the text: parts after the 100th are not read.
  std::string wide = "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n";
  for (int i = 0; i < 150; ++i) wide += "--w\r\nContent-Type: image/png\r\n\r\nx\r\n";
  wide += "--w\r\nContent-Type: text/plain\r\n\r\nLate text\r\n--w--\r\n";
  EXPECT_EQ(text_of(wide), "");
  wide = "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n";
  for (int i = 0; i < 90; ++i) wide += "--w\r\nContent-Type: image/png\r\n\r\nx\r\n";
  wide += "--w\r\nContent-Type: text/plain\r\n\r\nLate text\r\n--w--\r\n";
  EXPECT_EQ(text_of(wide), "Late text");
}

TEST(SmsText, HugeBodyIsBoundedAtACodePoint) {
  std::string body;
  while (body.size() < 3 * kMaxSmsTextBytes) body += "\xC3\xA4\xE2\x82\xAC line of text\r\n";
  std::string text = text_of(mail("Content-Type: text/plain; charset=utf-8\r\n", body));
  EXPECT_LE(text.size(), kMaxSmsTextBytes);
  EXPECT_GE(text.size(), kMaxSmsTextBytes - 3);
  EXPECT_TRUE(valid_utf8(text));
  EXPECT_TRUE(text.starts_with("\xC3\xA4\xE2\x82\xAC line of text\n"));
}

}  // namespace
