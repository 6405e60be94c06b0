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

// Format 2, written since the body streams to disk: the body first, then the
// header, then the envelope; the content reads back as header + body.
namespace {
std::string streamed_file(const Envelope& e, std::string_view header, std::string_view body) {
  queue::StreamChecksum sum;
  std::string file(queue::kQueueMagic);
  // The body in uneven pieces, as a session would spill it.
  for (std::size_t i = 0; i < body.size(); i += 7) file += body.substr(i, 7);
  for (std::size_t i = 0; i < file.size(); i += 5) sum.update(std::string_view(file).substr(i, 5));
  file += queue::queue_file_tail(e, header, body.size(), sum);
  return file;
}
}  // namespace

TEST(SpoolFormat2, StreamedBodyAndHeaderReadBackAsOneContent) {
  Envelope e = sample();
  e.generation = 3;
  std::string header = "Received: from x\r\nSubject: y\r\n\r\n";
  std::string body = "line one\r\n\xff\x00 binary\r\nend\r\n";
  auto parsed = queue::parse_queue_file(streamed_file(e, header, body));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->content, header + body);
  EXPECT_EQ(parsed->envelope.generation, 3u);
  EXPECT_EQ(parsed->envelope.recipients.size(), 2u);
  std::size_t size = 0;
  auto envelope = queue::parse_envelope_only(streamed_file(e, header, body), &size);
  ASSERT_TRUE(envelope);
  EXPECT_EQ(size, header.size() + body.size());
}

TEST(SpoolFormat2, InMemoryWriterRoundTrips) {
  std::string content = "Subject: x\r\n\r\n\xff binary \n end\r\n";
  auto parsed = queue::parse_queue_file(queue::format_queue_file(sample(), content));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->content, content);
}

TEST(SpoolFormat2, EveryTruncationAndDamageIsDetected) {
  std::string file = streamed_file(sample(), "Subject: x\r\n\r\n", "hello\r\n");
  for (std::size_t cut = 0; cut < file.size(); ++cut)
    EXPECT_FALSE(queue::parse_queue_file(file.substr(0, cut))) << cut;
  for (std::size_t at = 0; at < file.size(); ++at) {
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    auto parsed = queue::parse_queue_file(damaged);
    EXPECT_TRUE(!parsed || parsed->content == "Subject: x\r\n\r\nhello\r\n") << at;
  }
}

TEST(SpoolFormat2, StreamChecksumEqualsOneShot) {
  std::string data(1000, 'a');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  queue::StreamChecksum whole, pieces;
  whole.update(data);
  for (std::size_t i = 0; i < data.size(); i += 3)
    pieces.update(std::string_view(data).substr(i, 3));
  EXPECT_EQ(whole.value(), pieces.value());
  EXPECT_EQ(whole.value(), queue::checksum(data));
}

// The intake's route and a pending wait travel with each recipient.
TEST(SpoolFormat, RecipientConnectorAndPendingReferenceRoundTrip) {
  Envelope e = sample();
  e.recipients[0].connector = "hylafax";
  e.recipients[0].pending_reference = "job 17\xC3\xA4";  // encoded on the way out
  e.recipients[0].pending_deadline = 1795086400;
  std::string content = "Subject: x\r\n\r\nbody\r\n";
  auto parsed = queue::parse_queue_file(file_of(e, content));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& r = parsed->envelope.recipients;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].connector, "hylafax");
  EXPECT_EQ(r[0].pending_reference, "job 17\xC3\xA4");
  EXPECT_EQ(r[0].pending_deadline, 1795086400);
  EXPECT_EQ(r[1].connector, "");
  EXPECT_EQ(r[1].pending_reference, "");
}
