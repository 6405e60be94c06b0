// The mail a received fax becomes, read back: header fields with the
// project's HeaderBlock, encoded words decoded, the MIME parts split at
// their boundary and their base64 decoded to the bytes that went in.
#include "connectors/fax/fax_mail.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/fax/ingest_folder.hpp"
#include "connectors/webhook/mime_decode.hpp"
#include "intake/ingest.hpp"
#include "mail/header_block.hpp"

namespace {

using namespace bh;
using namespace bh::connectors::fax;
using bh::connectors::webhook::decode_base64;
using bh::connectors::webhook::decode_encoded_words;

FaxMailFields fields_of_a_call() {
  FaxMailFields f;
  f.mailbox = "anna@contoso.com";
  f.called = "+4930654321";
  f.caller = "+4930123456";
  f.caller_raw = "030123456";
  f.caller_name = "Hans M\xC3\xBCller";
  f.tsi = "+49 30 123456";
  f.pages = 3;
  f.received_at = 1764633600;  // 2025-12-02 00:00:00 UTC
  f.reply_domain = "fax.example.com";
  f.hostname = "gw.example.com";
  f.unique = "0001ABCDEF";
  for (int i = 0; i < 1000; ++i) f.pdf += static_cast<char>(i * 7 % 256);
  return f;
}

std::string field(const std::string& mail, std::string_view name) {
  HeaderBlock block(mail);
  auto found = block.all(name);
  return found.size() == 1 ? HeaderBlock::unfolded(found.front()->value)
                           : "<" + std::to_string(found.size()) + ">";
}

struct Part {
  std::string header;
  std::string body;
};

// The parts between the boundary lines.
std::vector<Part> parts_of(const std::string& mail, const std::string& boundary) {
  std::vector<Part> parts;
  std::string delimiter = "\r\n--" + boundary;
  std::size_t at = mail.find(delimiter);
  while (at != std::string::npos) {
    std::size_t start = at + delimiter.size();
    if (mail.compare(start, 2, "--") == 0) break;
    start += 2;  // CRLF
    std::size_t next = mail.find(delimiter, start);
    if (next == std::string::npos) break;
    std::string part = mail.substr(start, next - start);
    std::size_t blank = part.find("\r\n\r\n");
    parts.push_back({part.substr(0, blank + 2), part.substr(blank + 4)});
    at = next;
  }
  return parts;
}

std::size_t longest_line(const std::string& text) {
  std::size_t longest = 0, start = 0;
  for (std::size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2)
    longest = std::max(longest, end - start);
  return longest;
}

TEST(FaxMail, HeaderNamesTheCallerAndCanBeRepliedTo) {
  std::string mail = compose_fax_mail(fields_of_a_call());
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  EXPECT_EQ(field(mail, "From"), "\"Fax +49 30 123456\" <+4930123456@fax.example.com>");
  EXPECT_EQ(address_in_header(field(mail, "From")), "+4930123456@fax.example.com");
  EXPECT_EQ(field(mail, "To"), "<anna@contoso.com>");
  EXPECT_EQ(field(mail, "Message-ID"), "<0001ABCDEF.fax@gw.example.com>");
  EXPECT_EQ(field(mail, "Date"), "Tue, 02 Dec 2025 00:00:00 +0000");
  EXPECT_EQ(field(mail, "MIME-Version"), "1.0");
  // The caller name has an umlaut: encoded words, which decode to it.
  std::string subject = field(mail, "Subject");
  EXPECT_TRUE(subject.starts_with("=?UTF-8?B?")) << subject;
  EXPECT_EQ(decode_encoded_words(subject), "Fax from Hans M\xC3\xBCller (+49 30 123456) (3 pages)");
}

TEST(FaxMail, PartsCarryTheTextAndThePdfByteForByte) {
  FaxMailFields f = fields_of_a_call();
  f.tiff = std::string("II*\0", 4) + std::string(300, '\x01');
  std::string mail = compose_fax_mail(f);
  std::string type = field(mail, "Content-Type");
  std::string marker = "boundary=\"";
  ASSERT_NE(type.find(marker), std::string::npos) << type;
  std::string boundary = type.substr(type.find(marker) + marker.size());
  boundary.pop_back();
  auto parts = parts_of(mail, boundary);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].header.find("Content-Type: text/plain;\r\n charset=utf-8"), std::string::npos);
  std::string text = decode_base64(parts[0].body);
  EXPECT_NE(text.find("Caller name:    Hans M\xC3\xBCller\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Station (TSI):  +49 30 123456\r\n"), std::string::npos);
  EXPECT_NE(text.find("Called number:  +49 30 654321\r\n"), std::string::npos);
  EXPECT_NE(text.find("Pages:          3\r\n"), std::string::npos);
  EXPECT_NE(text.find("Received:       2025-12-02 00:00:00 UTC\r\n"), std::string::npos);
  EXPECT_NE(parts[1].header.find("Content-Type: application/pdf;\r\n "
                                 "name=\"fax-20251202-000000-+4930123456.pdf\""),
            std::string::npos)
      << parts[1].header;
  EXPECT_NE(parts[1].header.find("filename=\"fax-20251202-000000-+4930123456.pdf\""),
            std::string::npos);
  EXPECT_EQ(decode_base64(parts[1].body), f.pdf);
  EXPECT_NE(parts[2].header.find("Content-Type: image/tiff"), std::string::npos);
  EXPECT_EQ(decode_base64(parts[2].body), f.tiff);
  // base64 in lines of 76 (the last one shorter).
  std::size_t first_break = parts[1].body.find("\r\n");
  EXPECT_EQ(first_break, 76u);
  // No line passes RFC 5322's recommended 78 (base64 lines are the longest).
  EXPECT_EQ(longest_line(mail), 76u);
  EXPECT_TRUE(mail.ends_with("--" + boundary + "--\r\n"));
}

TEST(FaxMail, UnknownCallerIsNamedByTheStationButNotReplyable) {
  FaxMailFields f = fields_of_a_call();
  f.caller.clear();
  f.caller_raw.clear();
  f.caller_name.clear();
  std::string mail = compose_fax_mail(f);
  EXPECT_EQ(field(mail, "From"),
            "\"Fax (unknown caller, station +49 30 123456)\" <unknown@fax.example.com>");
  EXPECT_EQ(field(mail, "Subject"), "Fax from station +49 30 123456 (3 pages)");
  f.tsi.clear();
  mail = compose_fax_mail(f);
  EXPECT_EQ(field(mail, "From"), "\"Fax (unknown caller)\" <unknown@fax.example.com>");
  EXPECT_EQ(field(mail, "Subject"), "Fax from an unknown caller (3 pages)");
  EXPECT_EQ(intake::content_problem(mail, Limits{}),
            "");  // A station name that is not ASCII makes the display name encoded words.
  f.tsi = "Gr\xC3\xBC\xC3\x9F Gott";
  mail = compose_fax_mail(f);
  std::string from = field(mail, "From");
  EXPECT_TRUE(from.starts_with("=?UTF-8?B?")) << from;
  EXPECT_EQ(address_in_header(from), "unknown@fax.example.com");
  EXPECT_EQ(decode_encoded_words(from.substr(0, from.find(" <"))),
            "Fax (unknown caller, station Gr\xC3\xBC\xC3\x9F Gott)");
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
}

TEST(FaxMail, HostileCallValuesCannotAddHeaderFields) {
  FaxMailFields f = fields_of_a_call();
  f.caller.clear();
  f.caller_raw = "anonymous\r\nBcc: victim@example.com";
  f.caller_name = std::string("Evil\r\nX-Injected: yes\0\x7f", 23) + "\xff\xfe";
  f.tsi = "\"quoted\\\" \r\nTo: x@y";
  std::string mail = compose_fax_mail(f);
  EXPECT_EQ(intake::content_problem(mail, Limits{}), "");
  HeaderBlock block(mail);
  EXPECT_TRUE(block.all("Bcc").empty());
  EXPECT_TRUE(block.all("X-Injected").empty());
  EXPECT_EQ(block.all("To").size(), 1u);
  // Controls become spaces; quotes and backslashes are escaped in the quoted string.
  EXPECT_EQ(field(mail, "From"),
            "\"Fax (unknown caller, station \\\"quoted\\\\\\\"   To: x@y)\" "
            "<unknown@fax.example.com>");
  std::string subject = decode_encoded_words(field(mail, "Subject"));
  EXPECT_EQ(subject,
            "Fax from Evil  X-Injected: yes  \xEF\xBF\xBD\xEF\xBF\xBD (anonymous  Bcc: "
            "victim@example.c) (3 pages)");  // the caller id cut to 32 characters
  EXPECT_LE(longest_line(mail), 78u);
}

TEST(FaxMail, LongNonAsciiSubjectIsFoldedIntoShortEncodedWords) {
  FaxMailFields f = fields_of_a_call();
  f.caller_name.clear();
  for (int i = 0; i < 30; ++i) f.caller_name += "\xE6\xB1\x89";  // 30 CJK characters (90 bytes)
  std::string mail = compose_fax_mail(f);
  HeaderBlock block(mail);
  auto subject = block.all("Subject");
  ASSERT_EQ(subject.size(), 1u);
  std::string raw(subject.front()->value);
  std::size_t start = 0;
  int words = 0;
  while ((start = raw.find("=?UTF-8?B?", start)) != std::string::npos) {
    std::size_t end = raw.find("?=", start + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - start, 75u);  // RFC 2047's limit
    // Each word is whole UTF-8 on its own (split between code points).
    std::string decoded = decode_base64(raw.substr(start + 10, end - start - 10));
    EXPECT_EQ(sanitise_untrusted(decoded, 1000), decoded);
    ++words;
    start = end;
  }
  EXPECT_GE(words, 3);
  std::string expected = "Fax from " + f.caller_name + " (+49 30 123456) (3 pages)";
  EXPECT_EQ(decode_encoded_words(HeaderBlock::unfolded(raw)), expected);
}

TEST(FaxMail, SanitiseReplacesControlsAndBadUtf8AndCuts) {
  EXPECT_EQ(sanitise_untrusted("a\tb\r\nc", 100), "a b  c");
  EXPECT_EQ(sanitise_untrusted("\xC0\xAF", 100), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(sanitise_untrusted("\xED\xA0\x80", 100),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");        // a surrogate
  EXPECT_EQ(sanitise_untrusted("x\xC2\x85y", 100), "x y");  // C1 NEL
  EXPECT_EQ(sanitise_untrusted("M\xC3\xBCller-Schmidt", 7), "M\xC3\xBCller-");
  EXPECT_EQ(sanitise_untrusted("   ", 10), "");
}

TEST(FaxJob, ParsesTheDocumentedKeys) {
  auto job =
      parse_fax_job(R"({"called": "+49 30 654321", "caller": "030123456", "caller_name": "Hans",)"
                    R"( "tsi": "TSI 1", "received_at": 1764633600})");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(job->called, "+49 30 654321");
  EXPECT_EQ(job->caller, "030123456");
  EXPECT_EQ(job->caller_name, "Hans");
  EXPECT_EQ(job->tsi, "TSI 1");
  EXPECT_EQ(job->received_at, 1764633600);
  // What the CLI writes reads back the same.
  auto again = parse_fax_job(fax_job_json(*job));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->caller_name, "Hans");
  EXPECT_EQ(again->received_at, 1764633600);
}

TEST(FaxJob, RefusesUnknownKeysWrongTypesAndMissingCalled) {
  auto message = [](std::string_view text) {
    auto job = parse_fax_job(text);
    return job ? std::string("accepted") : job.error().message;
  };
  EXPECT_EQ(message(R"({"called": "1", "extra": 1})"), "job file: unknown key \"extra\"");
  EXPECT_EQ(message(R"({"called": 1})"), "job file: \"called\" must be a string");
  EXPECT_EQ(message(R"({"called": "1", "received_at": "now"})"),
            "job file: \"received_at\" must be an integer (unix seconds)");
  EXPECT_EQ(message(R"({"called": "1", "received_at": -5})"),
            "job file: \"received_at\" is out of range");
  EXPECT_EQ(message(R"({"caller": "1"})"), "job file: \"called\" is missing");
  EXPECT_EQ(message(R"(["called"])"), "job file: not a JSON object");
  EXPECT_TRUE(message("{\"called\": ").starts_with("job file: not JSON"));
}

}  // namespace
