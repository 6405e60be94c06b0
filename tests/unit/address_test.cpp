#include <gtest/gtest.h>

#include "mail/address.hpp"

using bh::parse_path;

TEST(Address, ParsesPlainPath) {
  auto p = parse_path("<user@Example.COM> SIZE=1", false, false);
  ASSERT_TRUE(p.address);
  EXPECT_EQ(p.address->local, "user");
  EXPECT_EQ(p.address->domain, "Example.COM");
  EXPECT_EQ(p.address->domain_key(), "example.com");
  EXPECT_EQ(p.rest, " SIZE=1");
}

TEST(Address, NullPathOnlyWhereAllowed) {
  EXPECT_TRUE(parse_path("<>", true, false).address->null());
  EXPECT_FALSE(parse_path("<>", false, false).address);
}

TEST(Address, SourceRouteIsDropped) {
  auto p = parse_path("<@relay.example,@b.example:user@example.com>", false, false);
  ASSERT_TRUE(p.address);
  EXPECT_EQ(p.address->text(), "user@example.com");
}

TEST(Address, QuotedLocalPartKeepsQuotes) {
  auto p = parse_path("<\"john doe\"@example.com>", false, false);
  ASSERT_TRUE(p.address);
  EXPECT_EQ(p.address->local, "\"john doe\"");
}

TEST(Address, RejectsMalformed) {
  for (const char* bad : {"user@example.com", "<user>", "<@example.com>", "<a..b@example.com>",
                          "<.a@example.com>", "<a@-example.com>", "<a@exa mple.com>",
                          "<a@example.com", "<a b@example.com>", "<a@example..com>"}) {
    EXPECT_FALSE(parse_path(bad, true, false).address) << bad;
  }
}

TEST(Address, LengthLimits) {
  std::string local(65, 'a');
  auto p = parse_path("<" + local + "@example.com>", false, false);
  EXPECT_FALSE(p.address);
  EXPECT_EQ(p.error, bh::PathError::too_long);
}

TEST(Address, Utf8NeedsSmtputf8) {
  auto refused = parse_path("<j\xc3\xb6rg@example.com>", false, false);
  EXPECT_FALSE(refused.address);
  EXPECT_EQ(refused.error, bh::PathError::non_ascii);
  EXPECT_TRUE(parse_path("<j\xc3\xb6rg@example.com>", false, true).address);
}

TEST(Address, AddressLiteral) {
  EXPECT_TRUE(parse_path("<a@[192.0.2.1]>", false, false).address);
  EXPECT_TRUE(parse_path("<a@[IPv6:2001:db8::1]>", false, false).address);
}
