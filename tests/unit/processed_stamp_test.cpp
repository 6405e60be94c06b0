// The signed processed stamp (issue 8 section 5): sign and verify, key
// rotation, tampering, age, syntax, and the removal on arrival with an
// exact header size.
#include <gtest/gtest.h>

#include <string>

#include "mail/header_block.hpp"
#include "policy/processed_stamp.hpp"

using namespace bh;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
const std::string kKeyA(32, 'a');
const std::string kKeyB = "0123456789abcdef0123456789abcdef-b";

StampKeys keys(std::string current = kKeyA, std::string previous = "") {
  StampKeys k;
  k.current = std::move(current);
  k.previous = std::move(previous);
  k.node = "gw1.example.com";
  return k;
}

// The value after "X-Bridgehead-Processed:" (raw, folding kept, no final CRLF).
std::string value_of(const std::string& field) {
  std::string value = field.substr(field.find(':') + 1);
  return value.substr(0, value.size() - 2);
}

std::string stamp_value(const StampKeys& k, std::string_view message_id, std::int64_t t) {
  return value_of(make_stamp_field(k, message_id, t));
}

std::string message(const std::string& extra_header, const std::string& message_id = "<1@x>") {
  return "Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n" + extra_header +
         "Message-ID: " + message_id + "\r\nSubject: hi\r\n\r\nbody line\r\n";
}

std::size_t header_size_of(const std::string& content) {
  return content.find("\r\n\r\n") + 4;
}

// The tag string "v=1; n=...; t=...; k=...; s=..." of a stamp, unfolded.
std::string unfolded(const std::string& value) {
  return HeaderBlock::unfolded(value);
}

std::string replace_tag(const std::string& value, const std::string& tag, const std::string& to) {
  std::string text = unfolded(value);
  std::size_t begin = text.find(tag + "=");
  std::size_t end = text.find(';', begin);
  if (end == std::string::npos) end = text.size();
  return text.substr(0, begin) + tag + "=" + to + text.substr(end);
}

}  // namespace

TEST(ProcessedStamp, FieldSyntax) {
  std::string field = make_stamp_field(keys(), "<1@x>", kNow);
  std::string id = stamp_key_id(kKeyA);
  ASSERT_EQ(id.size(), 8u);
  std::string prefix =
      "X-Bridgehead-Processed: v=1; n=gw1.example.com; t=1767225600; k=" + id + ";\r\n s=";
  ASSERT_EQ(field.substr(0, prefix.size()), prefix);
  std::string signature = field.substr(prefix.size());
  ASSERT_EQ(signature.size(), 43u + 2);
  EXPECT_TRUE(signature.ends_with("\r\n"));
  EXPECT_EQ(signature.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            43u);
  // One header field, parsed as one.
  std::string content = field + "\r\n";  // HeaderBlock views it: it must outlive the block
  HeaderBlock block(content);
  ASSERT_EQ(block.fields().size(), 1u);
  EXPECT_EQ(block.fields()[0].name, "X-Bridgehead-Processed");
}

// Known answer, computed independently (Python hmac, hashlib, base64):
// key "a" x 32, Message-ID "<1@x>"; the example in docs/configuration.md.
TEST(ProcessedStamp, KnownAnswer) {
  EXPECT_EQ(make_stamp_field(keys(), "<1@x>", kNow),
            "X-Bridgehead-Processed: v=1; n=gw1.example.com; t=1767225600; k=3ba3f5f4;\r\n"
            " s=Bbhv7OT8lx0RCRiDwjI5L9vrE9Dn9KS6WOSPfXZFxOo\r\n");
}

TEST(ProcessedStamp, KeyIdIsSha256Prefix) {
  // SHA-256("") = e3b0c442...
  EXPECT_EQ(stamp_key_id(""), "e3b0c442");
  EXPECT_NE(stamp_key_id(kKeyA), stamp_key_id(kKeyB));
}

TEST(ProcessedStamp, NodeCannotBreakTheField) {
  StampKeys k = keys();
  k.node = "evil\r\nBcc: x; n=y";
  std::string field = make_stamp_field(k, "<1@x>", kNow);
  EXPECT_EQ(field.find("\r\nBcc"), std::string::npos);
  std::string content = field + "\r\n";
  EXPECT_EQ(HeaderBlock(content).fields().size(), 1u);
  EXPECT_EQ(verify_stamp(k, value_of(field), "<1@x>", kNow), StampStatus::valid);
}

TEST(ProcessedStamp, RoundTrip) {
  EXPECT_EQ(verify_stamp(keys(), stamp_value(keys(), "<1@x>", kNow), "<1@x>", kNow),
            StampStatus::valid);
  // No Message-ID: signed over "".
  EXPECT_EQ(verify_stamp(keys(), stamp_value(keys(), "", kNow), "", kNow), StampStatus::valid);
  // Unfolded on one line it verifies too (a relay may unfold or refold).
  std::string one_line = " " + unfolded(stamp_value(keys(), "<1@x>", kNow));
  EXPECT_EQ(verify_stamp(keys(), one_line, "<1@x>", kNow), StampStatus::valid);
  std::string refolded = replace_tag(stamp_value(keys(), "<1@x>", kNow), "v", "1");
  for (std::size_t at = refolded.find("; "); at != std::string::npos;
       at = refolded.find("; ", at + 4))
    refolded.replace(at, 2, ";\r\n\t");
  EXPECT_EQ(verify_stamp(keys(), refolded, "<1@x>", kNow), StampStatus::valid);
}

TEST(ProcessedStamp, RotationPreviousKeyVerifiesOnlyCurrentSigns) {
  std::string old_stamp = stamp_value(keys(kKeyA), "<1@x>", kNow);
  StampKeys rotated = keys(kKeyB, kKeyA);
  EXPECT_EQ(verify_stamp(rotated, old_stamp, "<1@x>", kNow), StampStatus::valid);
  std::string new_stamp = stamp_value(rotated, "<1@x>", kNow);
  EXPECT_NE(new_stamp.find("k=" + stamp_key_id(kKeyB)), std::string::npos);
  EXPECT_EQ(verify_stamp(rotated, new_stamp, "<1@x>", kNow), StampStatus::valid);
  // After the rotation ends, the old key's stamps are unknown.
  EXPECT_EQ(verify_stamp(keys(kKeyB), old_stamp, "<1@x>", kNow), StampStatus::unknown_key);
  // The old configuration does not know the new key.
  EXPECT_EQ(verify_stamp(keys(kKeyA), new_stamp, "<1@x>", kNow), StampStatus::unknown_key);
}

TEST(ProcessedStamp, TamperedMessageId) {
  std::string stamp = stamp_value(keys(), "<1@x>", kNow);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<2@x>", kNow), StampStatus::bad_signature);
  EXPECT_EQ(verify_stamp(keys(), stamp, "", kNow), StampStatus::bad_signature);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@X>", kNow), StampStatus::bad_signature);
}

TEST(ProcessedStamp, TamperedFields) {
  std::string stamp = stamp_value(keys(), "<1@x>", kNow);
  EXPECT_EQ(verify_stamp(keys(), replace_tag(stamp, "t", std::to_string(kNow + 1)), "<1@x>", kNow),
            StampStatus::bad_signature);
  EXPECT_EQ(verify_stamp(keys(), replace_tag(stamp, "n", "gw2.example.com"), "<1@x>", kNow),
            StampStatus::bad_signature);
  // Another signature of the right shape.
  std::string other = stamp_value(keys(), "<other@x>", kNow);
  std::string other_sig = unfolded(other).substr(unfolded(other).find("s=") + 2);
  EXPECT_EQ(verify_stamp(keys(), replace_tag(stamp, "s", other_sig), "<1@x>", kNow),
            StampStatus::bad_signature);
  // Signed with a key whose id was copied onto it.
  std::string forged = stamp_value(keys(kKeyB), "<1@x>", kNow);
  EXPECT_EQ(verify_stamp(keys(), replace_tag(forged, "k", stamp_key_id(kKeyA)), "<1@x>", kNow),
            StampStatus::bad_signature);
}

TEST(ProcessedStamp, UnknownKey) {
  std::string stamp = stamp_value(keys(kKeyB), "<1@x>", kNow);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@x>", kNow), StampStatus::unknown_key);
  EXPECT_EQ(verify_stamp(keys(), replace_tag(stamp, "k", "00000000"), "<1@x>", kNow),
            StampStatus::unknown_key);
}

TEST(ProcessedStamp, Age) {
  std::string stamp = stamp_value(keys(), "<1@x>", kNow);
  const std::int64_t week = 604800;
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@x>", kNow + week), StampStatus::valid);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@x>", kNow + week + 1), StampStatus::stale);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@x>", kNow - 300), StampStatus::valid);
  EXPECT_EQ(verify_stamp(keys(), stamp, "<1@x>", kNow - 301), StampStatus::future);
  StampKeys short_lived = keys();
  short_lived.max_age_seconds = 3600;
  EXPECT_EQ(verify_stamp(short_lived, stamp, "<1@x>", kNow + 3601), StampStatus::stale);
}

TEST(ProcessedStamp, BadSyntax) {
  std::string good = unfolded(stamp_value(keys(), "<1@x>", kNow));
  std::string id = stamp_key_id(kKeyA);
  std::string sig = good.substr(good.find("s=") + 2);
  auto check = [&](const std::string& value) {
    EXPECT_EQ(verify_stamp(keys(), value, "<1@x>", kNow), StampStatus::bad_syntax) << value;
  };
  check("");
  check("true");
  check(good + ";");
  check(good + "; x=1");
  check(replace_tag(good, "v", "2"));
  check(replace_tag(good, "v", ""));
  check(replace_tag(good, "n", ""));
  check(replace_tag(good, "n", "a b"));
  check(replace_tag(good, "t", ""));
  check(replace_tag(good, "t", "-5"));
  check(replace_tag(good, "t", "12a"));
  check(replace_tag(good, "t", "9999999999999999999999"));
  check(replace_tag(good, "k", id.substr(0, 7)));
  check(replace_tag(good, "k", "ABCDEF01"));
  check(replace_tag(good, "s", sig.substr(1)));
  check(replace_tag(good, "s", sig + "A"));
  check(replace_tag(good, "s", sig.substr(1) + "="));
  check(replace_tag(good, "s", sig.substr(1) + "+"));
  // Tags out of order, twice, or missing.
  check("n=gw1.example.com; v=1; t=1767225600; k=" + id + "; s=" + sig);
  check("v=1; v=1; n=gw1.example.com; t=1767225600; k=" + id + "; s=" + sig);
  check("v=1; n=gw1.example.com; t=1767225600; k=" + id);
  check("v=1; n=gw1.example.com; t=1767225600; k=" + id + "; s");
  check("V=1; n=gw1.example.com; t=1767225600; k=" + id + "; s=" + sig);
}

TEST(ProcessedStamp, StatusNames) {
  EXPECT_EQ(to_string(StampStatus::valid), "valid");
  EXPECT_EQ(to_string(StampStatus::bad_syntax), "bad_syntax");
  EXPECT_EQ(to_string(StampStatus::unknown_key), "unknown_key");
  EXPECT_EQ(to_string(StampStatus::bad_signature), "bad_signature");
  EXPECT_EQ(to_string(StampStatus::stale), "stale");
  EXPECT_EQ(to_string(StampStatus::future), "future");
}

TEST(ProcessedStamp, MessageIdIsFirstUnfoldedTrimmed) {
  EXPECT_EQ(stamp_message_id(HeaderBlock("Subject: x\r\n\r\n")), "");
  EXPECT_EQ(stamp_message_id(HeaderBlock("message-id:  \r\n\t<1@x>  \r\n\r\n")), "<1@x>");
  EXPECT_EQ(stamp_message_id(HeaderBlock("Message-ID: <1@x>\r\nMessage-ID: <2@x>\r\n\r\n")),
            "<1@x>");
}

// The trace block stays at the very beginning (RFC 5321 4.4).
TEST(ProcessedStamp, AddedBelowTheReceivedFields) {
  std::string content =
      "Received: from a\r\n\tby b\r\nReceived: from c\r\nSubject: s\r\nMessage-ID: "
      "<m@x>\r\n\r\nbody\r\n";
  std::size_t header_size = header_size_of(content);
  add_stamp(content, header_size, keys(), kNow);
  EXPECT_TRUE(
      content.starts_with("Received: from a\r\n\tby b\r\nReceived: from c\r\n"
                          "X-Bridgehead-Processed: v=1;"))
      << content;
  EXPECT_EQ(header_size, header_size_of(content));
  EXPECT_TRUE(check_stamps(content, header_size, keys(), true, kNow).valid_present);
}

TEST(ProcessedStamp, AddThenCheckOnTrustedPeer) {
  std::string content = message("", "\r\n <folded@x> ");
  std::size_t header_size = header_size_of(content);
  add_stamp(content, header_size, keys(), kNow);
  EXPECT_TRUE(
      content.starts_with("Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                          "X-Bridgehead-Processed: v=1;"))
      << content;
  EXPECT_EQ(header_size, header_size_of(content));
  std::string before = content;
  StampCheck check = check_stamps(content, header_size, keys(), true, kNow + 10);
  EXPECT_TRUE(check.valid_present);
  EXPECT_TRUE(check.removed.empty());
  EXPECT_EQ(content, before);
}

TEST(ProcessedStamp, SeveralValidStampsAreKept) {
  std::string content = message("");
  std::size_t header_size = header_size_of(content);
  add_stamp(content, header_size, keys(), kNow);
  add_stamp(content, header_size, keys(kKeyB, kKeyA), kNow + 60);
  std::string before = content;
  StampCheck check = check_stamps(content, header_size, keys(kKeyB, kKeyA), true, kNow + 120);
  EXPECT_TRUE(check.valid_present);
  EXPECT_TRUE(check.removed.empty());
  EXPECT_EQ(content, before);
  EXPECT_EQ(HeaderBlock(content).all(kStampField).size(), 2u);
}

TEST(ProcessedStamp, TrustedPeerRemovesOnlyBadStamps) {
  std::string good = make_stamp_field(keys(), "<1@x>", kNow);
  std::string stale = make_stamp_field(keys(), "<1@x>", kNow - 700000);
  std::string foreign = make_stamp_field(keys(kKeyB), "<1@x>", kNow);
  std::string other_message = make_stamp_field(keys(), "<2@x>", kNow);
  std::string content = message(stale + "x-bridgehead-processed: true\r\n" + good + foreign +
                                other_message + "X-Bridgehead-Processed:  v=1;\r\n\tgarbage\r\n");
  std::size_t header_size = header_size_of(content);
  StampCheck check = check_stamps(content, header_size, keys(), true, kNow);
  EXPECT_TRUE(check.valid_present);
  EXPECT_EQ(check.removed, (std::vector<std::string>{"stale", "bad_syntax", "unknown_key",
                                                     "bad_signature", "bad_syntax"}));
  EXPECT_EQ(content, message(good));
  EXPECT_EQ(header_size, header_size_of(content));
  EXPECT_EQ(content.substr(header_size), "body line\r\n");
}

TEST(ProcessedStamp, UntrustedPeerRemovesEveryStamp) {
  std::string good = make_stamp_field(keys(), "<1@x>", kNow);
  std::string content = message(good + "X-Bridgehead-Processed: forged\r\n" + good);
  std::size_t header_size = header_size_of(content);
  StampCheck check = check_stamps(content, header_size, keys(), false, kNow);
  EXPECT_FALSE(check.valid_present);
  EXPECT_EQ(check.removed, (std::vector<std::string>(3, "untrusted_peer")));
  EXPECT_EQ(content, message(""));
  EXPECT_EQ(header_size, header_size_of(content));
}

TEST(ProcessedStamp, NoStampNothingChanges) {
  std::string content = message("X-Other: 1\r\n");
  std::size_t header_size = header_size_of(content);
  std::string before = content;
  StampCheck check = check_stamps(content, header_size, keys(), false, kNow);
  EXPECT_FALSE(check.valid_present);
  EXPECT_TRUE(check.removed.empty());
  EXPECT_EQ(content, before);
  EXPECT_EQ(header_size, header_size_of(before));
}

TEST(ProcessedStamp, HeaderSizeExactWhenTheBodyIsNotHeld) {
  // The session keeps only the header once the body went to the spool file.
  std::string full = message("X-Bridgehead-Processed: forged\r\n");
  std::string content = full.substr(0, header_size_of(full));
  std::size_t header_size = content.size();
  check_stamps(content, header_size, keys(), true, kNow);
  EXPECT_EQ(header_size, content.size());
  std::string expected = message("");
  EXPECT_EQ(content, expected.substr(0, header_size_of(expected)));
}

TEST(ProcessedStamp, StampInTheBodyIsNotTouched) {
  std::string content = message("") + "X-Bridgehead-Processed: forged\r\n";
  std::size_t header_size = header_size_of(content);
  std::string before = content;
  StampCheck check = check_stamps(content, header_size, keys(), false, kNow);
  EXPECT_TRUE(check.removed.empty());
  EXPECT_EQ(content, before);
}

TEST(ProcessedStamp, StampBoundToTheMessageId) {
  // A valid stamp copied onto another message does not verify there.
  std::string stamp = make_stamp_field(keys(), "<1@x>", kNow);
  std::string content = message(stamp, "<2@x>");
  std::size_t header_size = header_size_of(content);
  StampCheck check = check_stamps(content, header_size, keys(), true, kNow);
  EXPECT_FALSE(check.valid_present);
  EXPECT_EQ(check.removed, std::vector<std::string>{"bad_signature"});
  EXPECT_EQ(content, message("", "<2@x>"));
  EXPECT_EQ(header_size, header_size_of(content));
}
