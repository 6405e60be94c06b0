#include <gtest/gtest.h>

#include "tls/name_match.hpp"

using bh::tls::certificate_matches;
using bh::tls::name_matches;

TEST(NameMatch, ExactAndWildcard) {
  EXPECT_TRUE(name_matches("mail.protection.outlook.com", "MAIL.protection.outlook.com."));
  EXPECT_TRUE(name_matches("*.protection.outlook.com", "mail.protection.outlook.com"));
  EXPECT_FALSE(name_matches("*.outlook.com", "mail.protection.outlook.com"));  // one label only
  EXPECT_FALSE(name_matches("*.outlook.com", "outlook.com"));
  EXPECT_FALSE(name_matches("mail.example.com", "mail.example.org"));
  EXPECT_FALSE(name_matches("", "x"));
}

TEST(NameMatch, SansWinOverCommonName) {
  EXPECT_TRUE(certificate_matches("mx.example.com", {"mx.example.com"}, "other"));
  EXPECT_FALSE(certificate_matches("mx.example.com", {"a.example.com"}, "mx.example.com"));
  EXPECT_TRUE(certificate_matches("mx.example.com", {}, "mx.example.com"));
  EXPECT_TRUE(certificate_matches("*.example.com", {"mx.example.com"}, ""));
}
