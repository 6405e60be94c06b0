// Header hygiene toward each audience and the hop limit (issue 8 section 5).
#include <gtest/gtest.h>

#include <string>

#include "mail/control_headers.hpp"
#include "mail/header_block.hpp"
#include "mail/limits.hpp"

using namespace bh;

namespace {

const std::string kHeader =
    "Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
    "X-Bridgehead-Processed: v=1; n=gw1; t=1; k=00000000;\r\n s=abc\r\n"
    "X-MS-Exchange-Organization-AuthAs: Internal\r\n"
    "x-ms-exchange-organization-scl:\r\n\t-1\r\n"
    "X-MS-Exchange-CrossTenant-Id: 4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b\r\n"
    "X-BRIDGEHEAD-Route: fax\r\n"
    "Subject: X-Bridgehead-Processed: in a value stays\r\n"
    "X-Bridgehead: not a control header (no dash)\r\n"
    "X-MS-Exchange-Organizational: neither\r\n"
    "\r\n";
const std::string kBody = "X-Bridgehead-Processed: in the body\r\nline\r\n";

const std::string kCleaned =
    "Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
    "X-MS-Exchange-CrossTenant-Id: 4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b\r\n"
    "Subject: X-Bridgehead-Processed: in a value stays\r\n"
    "X-Bridgehead: not a control header (no dash)\r\n"
    "X-MS-Exchange-Organizational: neither\r\n"
    "\r\n";

std::string received(std::size_t count) {
  std::string header;
  for (std::size_t i = 0; i < count; ++i)
    header += "Received: from hop" + std::to_string(i) + "\r\n by next; Thu, 1 Jan 2026\r\n";
  return header + "Subject: loop\r\n\r\nbody\r\n";
}

}  // namespace

TEST(ControlHeaders, TenantKeepsEverything) {
  std::string content = kHeader + kBody;
  std::size_t header_size = kHeader.size();
  EXPECT_TRUE(strip_control_headers(content, header_size, Audience::tenant).empty());
  EXPECT_EQ(content, kHeader + kBody);
  EXPECT_EQ(header_size, kHeader.size());
}

TEST(ControlHeaders, PartnerAndInternetLoseControlHeaders) {
  for (Audience audience : {Audience::partner, Audience::internet}) {
    std::string content = kHeader + kBody;
    std::size_t header_size = kHeader.size();
    auto removed = strip_control_headers(content, header_size, audience);
    EXPECT_EQ(removed, (std::vector<std::string>{
                           "X-Bridgehead-Processed", "X-MS-Exchange-Organization-AuthAs",
                           "x-ms-exchange-organization-scl", "X-BRIDGEHEAD-Route"}));
    EXPECT_EQ(content, kCleaned + kBody);
    EXPECT_EQ(header_size, kCleaned.size());
  }
}

TEST(ControlHeaders, HeaderOnlyContent) {
  std::string content = kHeader;
  std::size_t header_size = content.size();
  strip_control_headers(content, header_size, Audience::internet);
  EXPECT_EQ(content, kCleaned);
  EXPECT_EQ(header_size, content.size());
}

TEST(ControlHeaders, NothingToRemove) {
  std::string content = kCleaned + kBody;
  std::size_t header_size = kCleaned.size();
  EXPECT_TRUE(strip_control_headers(content, header_size, Audience::internet).empty());
  EXPECT_EQ(content, kCleaned + kBody);
  EXPECT_EQ(header_size, kCleaned.size());
}

TEST(ControlHeaders, IsControlHeader) {
  EXPECT_TRUE(is_control_header("X-Bridgehead-Processed"));
  EXPECT_TRUE(is_control_header("x-bridgehead-anything"));
  EXPECT_TRUE(is_control_header("X-MS-Exchange-Organization-MessageDirectionality"));
  EXPECT_FALSE(is_control_header("X-MS-Exchange-CrossTenant-Id"));
  EXPECT_FALSE(is_control_header("X-Bridgehead"));
  EXPECT_FALSE(is_control_header("Received"));
}

TEST(ControlHeaders, ReceivedLimit) {
  Limits limits;
  ASSERT_EQ(limits.received_headers, 50u);
  for (std::size_t count : {0, 1, 49, 50}) {
    std::string content = received(count);
    HeaderBlock header(content);
    EXPECT_EQ(count_received(header), count);
    EXPECT_FALSE(too_many_received(header, limits.received_headers)) << count;
    HopCheck check = check_hops(header, limits.received_headers);
    EXPECT_FALSE(check.exceeded);
    EXPECT_EQ(check.received, count);
  }
  std::string content = received(51);
  HeaderBlock header(content);
  EXPECT_TRUE(too_many_received(header, limits.received_headers));
  HopCheck check = check_hops(header, limits.received_headers);
  EXPECT_TRUE(check.exceeded);
  EXPECT_EQ(check.received, 51u);
  EXPECT_EQ(check.code, 554);
  EXPECT_EQ(check.enhanced, "5.4.6");
  EXPECT_EQ(check.reply, "Error: too many hops (loop detected)");
  EXPECT_EQ(check.reason, "51 Received: fields, limit 50");
}

TEST(ControlHeaders, ReceivedCountedCaseInsensitivelyInTheHeaderOnly) {
  std::string content =
      "RECEIVED: a\r\nreceived: b\r\nReceived : c\r\nX-Received: d\r\n\r\nReceived: body\r\n";
  HeaderBlock header(content);
  EXPECT_EQ(count_received(header), 3u);  // "Received :" is the same name (obsolete syntax)
  EXPECT_TRUE(too_many_received(header, 2));
  EXPECT_FALSE(too_many_received(header, 3));
}
