#include "connectors/destination_rules.hpp"

#include <gtest/gtest.h>

#include "directory/phone_number.hpp"

namespace connectors = bh::connectors;

namespace {

std::string blocked(const connectors::DestinationRules& rules, const std::string& number) {
  auto check = connectors::DestinationCheck::compile(rules);
  EXPECT_TRUE(check) << check.error().message;
  auto reason = check->blocked(number);
  return reason ? *reason : "";
}

}  // namespace

TEST(DestinationRules, PremiumRateNumbersByRegion) {
  EXPECT_TRUE(bh::directory::is_premium_rate("+499001234567"));  // DE 0900
  EXPECT_TRUE(bh::directory::is_premium_rate("+449098790000"));  // GB 0909
  EXPECT_FALSE(bh::directory::is_premium_rate("+4930123456"));
  EXPECT_FALSE(bh::directory::is_premium_rate("+442079460123"));
  EXPECT_FALSE(bh::directory::is_premium_rate("not a number"));
}

TEST(DestinationRules, EachRuleNamesItself) {
  connectors::DestinationRules rules;  // block_premium_rate is on by default
  EXPECT_EQ(blocked(rules, "+4930123456"), "");
  EXPECT_NE(blocked(rules, "+499001234567").find("premium rate"), std::string::npos);
  rules.block_premium_rate = false;
  EXPECT_EQ(blocked(rules, "+499001234567"), "");

  rules.blocked_prefixes = {"+4930", "+43"};
  EXPECT_NE(blocked(rules, "+4930123456").find("blocked_prefixes entry \"+4930\""),
            std::string::npos);
  EXPECT_EQ(blocked(rules, "+4940123456"), "");

  rules.blocked_prefixes.clear();
  rules.blocked_patterns = {R"(\+49(1[5-7]).*)"};
  EXPECT_NE(blocked(rules, "+4915112345678").find("blocked_patterns entry"), std::string::npos);
  EXPECT_EQ(blocked(rules, "+4930123456"), "");
  // Whole-number match: a pattern matching only a part does not block.
  rules.blocked_patterns = {"123"};
  EXPECT_EQ(blocked(rules, "+4930123456"), "");

  rules.blocked_patterns.clear();
  rules.allowed_prefixes = {"+49"};
  EXPECT_EQ(blocked(rules, "+4930123456"), "");
  EXPECT_NE(blocked(rules, "+442079460123").find("not in allowed_prefixes"), std::string::npos);
}

TEST(DestinationRules, PrefixesAndPatternsAreValidated) {
  EXPECT_EQ(connectors::destination_prefix_problem("+49900"), "");
  EXPECT_NE(connectors::destination_prefix_problem("49900"), "");
  EXPECT_NE(connectors::destination_prefix_problem("+"), "");
  EXPECT_NE(connectors::destination_prefix_problem("+49 900"), "");
  EXPECT_NE(connectors::destination_prefix_problem("+1234567890123456"), "");
  EXPECT_TRUE(connectors::compile_destination_pattern(R"(\+49900\d+)"));
  auto bad = connectors::compile_destination_pattern("(+49");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not a valid RE2 pattern"), std::string::npos);
  connectors::DestinationRules rules;
  rules.blocked_patterns = {"[9"};
  EXPECT_FALSE(connectors::DestinationCheck::compile(rules));
}
