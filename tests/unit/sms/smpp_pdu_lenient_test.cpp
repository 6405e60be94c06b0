// The SMPP decoder's leniency (smpp_pdu.hpp, decode()): responses are
// never refused for their bodies (a lost submit answer would send the SMS
// twice), over-long ids are kept up to a bound, and what is taken is
// noted; what we encode stays strict.
#include <gtest/gtest.h>

#include <iterator>

#include "connectors/sms/smpp_pdu.hpp"
#include "tests/unit/sms/smpp_pdu_samples.hpp"

namespace smpp = bh::connectors::sms::smpp;
using bh::test::smpp_samples::framed;
using bh::test::smpp_samples::hex;
using bh::test::smpp_samples::hex_of;
using bh::test::smpp_samples::message_id_of;
using bh::test::smpp_samples::octets;
using bh::test::smpp_samples::taken;

TEST(SmppPduLenient, OverLongMessageIdsAreKeptUpTo255) {
  auto resp = [](std::size_t n) {
    return framed(hex("00000000 80000004 00000000 00000009") + std::string(n, '7') + hex("00"));
  };
  EXPECT_EQ(message_id_of(taken(resp(255))), std::string(255, '7'));
  auto dropped = taken(resp(256));
  EXPECT_EQ(dropped.command_status, smpp::status::ok);
  EXPECT_EQ(dropped.sequence, 9u);
  EXPECT_EQ(message_id_of(dropped), "");
  EXPECT_NE(dropped.irregularity.find("256 octets, over 255: dropped"), std::string::npos)
      << dropped.irregularity;
  // Also without a NUL, up to the largest frame.
  auto huge = taken(framed(hex("00000000 80000004 00000000 00000009") +
                           std::string(smpp::kMaxPduSize - smpp::kHeaderSize, 'x')));
  EXPECT_EQ(message_id_of(huge), "");
  // At 64 (the spec's maximum) there is nothing to note.
  auto regular = smpp::decode(octets(resp(64)));
  ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(regular));
  EXPECT_TRUE(std::get<smpp::Pdu>(regular).irregularity.empty());
  // What we encode stays strict.
  EXPECT_FALSE(smpp::encode(taken(resp(65))));
}

TEST(SmppPduLenient, AnyBodyOfAKnownResponseDecodes) {
  // Pseudo-random bodies after the header of each response: never refused,
  // the header's status and sequence kept; a noted one, when it encodes,
  // encodes to a PDU that decodes without a note to the same fields.
  const std::uint32_t ids[] = {smpp::command::generic_nack,
                               smpp::command::bind_transceiver | smpp::command::response_bit,
                               smpp::command::bind_receiver | smpp::command::response_bit,
                               smpp::command::submit_sm | smpp::command::response_bit,
                               smpp::command::deliver_sm | smpp::command::response_bit,
                               smpp::command::enquire_link | smpp::command::response_bit,
                               smpp::command::unbind | smpp::command::response_bit};
  const std::string alphabet = hex("00 00 00 01 02 10 21 34 41 ff") + "0210";
  std::uint32_t seed = 7;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
  };
  int noted = 0;
  for (int round = 0; round < 4000; ++round) {
    std::uint32_t id = ids[next() % std::size(ids)];
    std::uint32_t status = next() % 3 == 0 ? smpp::status::throttled : smpp::status::ok;
    std::string body;
    for (unsigned n = next() % 24; n > 0; --n) body.push_back(alphabet[next() % alphabet.size()]);
    std::string bytes = framed(hex("00000000 00000000 00000000 00000005") + body);
    for (int i = 0; i < 4; ++i) {
      bytes[4 + i] = static_cast<char>(id >> (24 - 8 * i));
      bytes[8 + i] = static_cast<char>(status >> (24 - 8 * i));
    }
    auto result = smpp::decode(octets(bytes));
    ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(result)) << hex_of(bytes);
    smpp::Pdu pdu = std::get<smpp::Pdu>(result);
    EXPECT_EQ(pdu.command_id, id);
    EXPECT_EQ(pdu.command_status, status);
    EXPECT_EQ(pdu.sequence, 5u);
    if (pdu.irregularity.empty()) continue;
    ++noted;
    auto encoded = smpp::encode(pdu);
    if (!encoded) continue;
    auto again = smpp::decode(octets(*encoded));
    ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(again));
    pdu.irregularity.clear();
    EXPECT_EQ(std::get<smpp::Pdu>(again), pdu) << hex_of(bytes);
  }
  EXPECT_GT(noted, 1000);
}
