#include "directory/phone_number.hpp"

#include <gtest/gtest.h>

using namespace bh::directory;

namespace {

struct NumberCase {
  const char* text;
  const char* region;
  const char* e164;  // nullptr: refused, with `error` in the message
  const char* error;
};

const NumberCase kNumbers[] = {
    {"+49 30 1234567", "", "+49301234567", nullptr},
    {"+49 (30) 123-4567", "", "+49301234567", nullptr},
    {"0049 30 1234567", "", "+49301234567", nullptr},
    {"(030) 1234567", "DE", "+49301234567", nullptr},
    {"030/1234567", "de", "+49301234567", nullptr},
    {" +41 44 668 18 00 ", "", "+41446681800", nullptr},
    {"+1 650-253-0000", "DE", "+16502530000", nullptr},
    {"+44 20 7946 0958", "", "+442079460958", nullptr},
    {"030 1234567", "", nullptr, "has no country code"},
    {"", "", nullptr, "empty"},
    {"   ", "DE", nullptr, "empty"},
    {"1-800-FLOWERS", "US", nullptr, "digits, a leading '+'"},
    {"+49 30 1234567 ext. 12", "", nullptr, "digits, a leading '+'"},
    {"tel:+49301234567", "", nullptr, "digits, a leading '+'"},
    {"+49 30 12+34567", "", nullptr, "'+' only at the start"},
    {"+999 1234567", "", nullptr, "unknown country code"},
    {"+49 3", "", nullptr, "too short"},
    {"+49 30 12345678901234567890", "", nullptr, "too long"},
    {"+1 000-000-0000", "", nullptr, "not a valid number"},
    {"+49\x1b[2J", "", nullptr, "\\x1B"},
    {"+4930123456789012345678901234567890123456789012345678901234567890", "", nullptr,
     "longer than 64"},
};

}  // namespace

TEST(DirectoryPhoneNumber, NormalisesToE164OrSaysWhy) {
  for (const NumberCase& c : kNumbers) {
    auto e164 = to_e164(c.text, c.region);
    if (c.e164 != nullptr) {
      ASSERT_TRUE(e164) << c.text << ": " << e164.error().message;
      EXPECT_EQ(*e164, c.e164) << c.text;
    } else {
      ASSERT_FALSE(e164) << c.text << " accepted as " << *e164;
      EXPECT_NE(e164.error().message.find(c.error), std::string::npos)
          << c.text << ": " << e164.error().message;
    }
  }
}

TEST(DirectoryPhoneNumber, InternationalFormatForDisplay) {
  EXPECT_EQ(international_format("+49301234567"), "+49 30 1234567");
  EXPECT_EQ(international_format("+16502530000"), "+1 650-253-0000");
  EXPECT_EQ(international_format("not a number"), "not a number");
}

TEST(DirectoryPhoneNumber, KnownRegions) {
  EXPECT_TRUE(known_region("DE"));
  EXPECT_TRUE(known_region("US"));
  EXPECT_FALSE(known_region("de"));
  EXPECT_FALSE(known_region("XX"));
  EXPECT_FALSE(known_region(""));
}
