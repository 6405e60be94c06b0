#include <gtest/gtest.h>

#include "queue/spool_format.hpp"

using namespace bh;

namespace {
Envelope sample() {
  Envelope e;
  e.queue_id = "00061234ABCD0001";
  e.arrival = 1795000000;
  e.sender = Address{"\"odd sender\"", "example.net"};
  e.recipients.push_back(
      {Address{"b", "example.test"}, notify_success | notify_failure, "rfc822;b@example.test"});
  e.recipients.push_back({Address{"c", "example.test"}, 0, ""});
  e.ret = DsnReturn::headers;
  e.envid = "-";
  e.body = BodyType::eight_bit_mime;
  e.client = {"192.0.2.1",
              25,
              "mx.example",
              "TLSv1.3",
              "TLS_AES_128_GCM_SHA256",
              "CN=mail.protection.outlook.com,O=Microsoft",
              "AA:BB",
              true};
  return e;
}

std::string file_of(const Envelope& e, const std::string& content) {
  std::string head = queue::serialize_envelope(e, content.size());
  return head + content + queue::end_record(head, content);
}
}  // namespace

TEST(SpoolFormat, RoundTrip) {
  Envelope e = sample();
  std::string content = "Subject: x\r\n\r\n\xff binary \n end\r\n";
  auto parsed = queue::parse_queue_file(file_of(e, content));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->content, content);
  const Envelope& p = parsed->envelope;
  EXPECT_EQ(p.queue_id, e.queue_id);
  EXPECT_EQ(p.sender.text(), e.sender.text());
  ASSERT_EQ(p.recipients.size(), 2u);
  EXPECT_EQ(p.recipients[0].notify, e.recipients[0].notify);
  EXPECT_EQ(p.recipients[0].orcpt, e.recipients[0].orcpt);
  EXPECT_EQ(p.recipients[1].orcpt, "");
  EXPECT_EQ(p.envid, "-");
  EXPECT_EQ(p.ret, DsnReturn::headers);
  EXPECT_EQ(p.client.cert_subject, e.client.cert_subject);
  EXPECT_TRUE(p.client.cert_verified);
}

TEST(SpoolFormat, NullSender) {
  Envelope e = sample();
  e.sender = Address{};
  auto parsed = queue::parse_queue_file(file_of(e, "x"));
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->envelope.sender.null());
}

TEST(SpoolFormat, EveryTruncationIsDetected) {
  std::string file = file_of(sample(), "Subject: x\r\n\r\nhello\r\n");
  for (std::size_t cut = 0; cut < file.size(); ++cut)
    EXPECT_FALSE(queue::parse_queue_file(file.substr(0, cut))) << cut;
}

TEST(SpoolFormat, DamageIsDetected) {
  std::string file = file_of(sample(), "Subject: x\r\n\r\nhello\r\n");
  std::string zeroed = file;
  zeroed[zeroed.find("hello")] = '\0';
  EXPECT_FALSE(queue::parse_queue_file(zeroed));
}
