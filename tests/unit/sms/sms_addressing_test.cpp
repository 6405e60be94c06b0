// The SMPP addresses of an SMS (sms_outbound.hpp): the sender's
// source_addr (a number or a sender id, the one check the kind uses too),
// the destination, and the destination rules a recipient's number must pass.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "connectors/sms/sms_outbound.hpp"

namespace bh::connectors::sms {
namespace {

const std::vector<std::string> kDomains = {"sms.example.com"};

TEST(SmsAddressing, SourceAddressForms) {
  auto number = source_address_of("+491701234567");
  ASSERT_TRUE(number) << number.error().message;
  EXPECT_EQ(number->ton, 1);
  EXPECT_EQ(number->npi, 1);
  EXPECT_EQ(number->address, "491701234567");

  auto id = source_address_of("Bridgehead");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->ton, 5);
  EXPECT_EQ(id->npi, 0);
  EXPECT_EQ(id->address, "Bridgehead");
  EXPECT_TRUE(source_address_of("My Bank 24"));  // 10 characters with a space and digits

  auto smsc = source_address_of("");
  ASSERT_TRUE(smsc);
  EXPECT_EQ(smsc->ton, 0);
  EXPECT_EQ(smsc->npi, 0);
  EXPECT_EQ(smsc->address, "");

  EXPECT_FALSE(source_address_of("TwelveLetter"));       // 12 characters
  EXPECT_FALSE(source_address_of("+49170abc"));          // '+' but not digits
  EXPECT_FALSE(source_address_of("+0491701234567"));     // no country code starts with 0
  EXPECT_FALSE(source_address_of("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(source_address_of("491701234567"));       // digits without '+' (and no letter)
  EXPECT_FALSE(source_address_of("Caf\xC3\xA9"));        // not ASCII
  EXPECT_FALSE(source_address_of("a`b"));                // '`' is not in GSM 7-bit
  // The extension table's characters take two septets and are not the same
  // in every SMSC's default alphabet: a sender id has none of them.
  for (const char* id : {"ACME[1]", "Shop^", "A|B", "Tilde~", "Back\\slash", "{Co}"})
    EXPECT_FALSE(source_address_of(id)) << id;
  EXPECT_TRUE(source_address_of("ElevenChars"));  // 11 characters, the most
  EXPECT_TRUE(source_address_of("Shop@24 $"));    // @ and $ are GSM basic characters
  auto refused = source_address_of("Caf\xC3\xA9-Shop");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("a sender id is 1 to 11 ASCII letters"), std::string::npos)
      << refused.error().message;
}

// settings.destinations (connectors/destination_rules.hpp): premium rate
// numbers by default, then what the administrator blocks, each a 5.7.1
// naming the rule; an address that is no number stays 5.1.3.
TEST(SmsAddressing, RecipientNumberAppliesTheDestinationRules) {
  SmsSettings settings;
  settings.domains = kDomains;
  auto result_of = [&](const std::string& address) {
    auto check = DestinationCheck::compile(settings.destinations);
    EXPECT_TRUE(check) << check.error().message;
    return recipient_number(address, settings, *check);
  };
  auto ok = result_of("+491701234567@sms.example.com");
  ASSERT_TRUE(std::holds_alternative<std::string>(ok));
  EXPECT_EQ(std::get<std::string>(ok), "+491701234567");

  auto premium = result_of("+499001234567@sms.example.com");
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(premium));
  const RecipientResult& bounced = std::get<RecipientResult>(premium);
  EXPECT_EQ(bounced.outcome, Outcome::bounced);
  EXPECT_EQ(bounced.status, "5.7.1");
  EXPECT_EQ(bounced.diagnostic,
            "SMS to +499001234567 is not permitted: premium rate or shared cost number "
            "(block_premium_rate)");
  // The national form is the same number.
  EXPECT_TRUE(std::holds_alternative<RecipientResult>(result_of("09001234567@sms.example.com")));

  auto not_ours = result_of("+491701234567@example.com");
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(not_ours));
  EXPECT_EQ(std::get<RecipientResult>(not_ours).status, "5.1.3");

  settings.destinations.block_premium_rate = false;
  EXPECT_TRUE(std::holds_alternative<std::string>(result_of("+499001234567@sms.example.com")));
  settings.destinations.blocked_prefixes = {"+4917"};
  auto prefix = result_of("+491701234567@sms.example.com");
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(prefix));
  EXPECT_NE(std::get<RecipientResult>(prefix).diagnostic.find("blocked_prefixes entry \"+4917\""),
            std::string::npos);
  settings.destinations.blocked_prefixes.clear();
  settings.destinations.allowed_prefixes = {"+49"};
  EXPECT_TRUE(std::holds_alternative<std::string>(result_of("+491701234567@sms.example.com")));
  auto abroad = result_of("+447911123456@sms.example.com");
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(abroad));
  EXPECT_NE(std::get<RecipientResult>(abroad).diagnostic.find("not in allowed_prefixes"),
            std::string::npos);
}

TEST(SmsAddressing, DestinationIsInternational) {
  smpp::SmeAddress destination = destination_address_of("+491701234567");
  EXPECT_EQ(destination.ton, 1);
  EXPECT_EQ(destination.npi, 1);
  EXPECT_EQ(destination.address, "491701234567");
}

}  // namespace
}  // namespace bh::connectors::sms
