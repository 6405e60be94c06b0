#include <gtest/gtest.h>

#include <span>
#include <string>
#include <variant>

#include "connectors/sms/delivery_receipt.hpp"
#include "connectors/sms/smpp_pdu.hpp"

using namespace bh::connectors::sms;
namespace tlv = bh::connectors::sms::smpp::tlv;

namespace {

bh::connectors::sms::smpp::ShortMessage receipt_pdu(std::string text,
                                                    std::uint8_t esm_class = 0x04) {
  bh::connectors::sms::smpp::ShortMessage message;
  message.esm_class = esm_class;
  message.short_message = std::move(text);
  return message;
}

Receipt parsed(const bh::connectors::sms::smpp::ShortMessage& message) {
  auto result = parse_receipt(message);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : Receipt{};
}

std::string refused(const bh::connectors::sms::smpp::ShortMessage& message) {
  auto result = parse_receipt(message);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : result.error().message;
}

}  // namespace

TEST(DeliveryReceipt, TellsReceiptsFromMessagesByEsmClass) {
  EXPECT_TRUE(is_receipt(receipt_pdu("", 0x04)));
  EXPECT_TRUE(is_receipt(receipt_pdu("", 0x08)));  // SME delivery acknowledgement
  EXPECT_TRUE(is_receipt(receipt_pdu("", 0x20)));  // intermediate delivery notification
  EXPECT_TRUE(is_receipt(receipt_pdu("", 0x44)));  // with UDHI, still a receipt
  EXPECT_FALSE(is_receipt(receipt_pdu("", 0x00)));
  EXPECT_FALSE(is_receipt(receipt_pdu("", 0x40)));
  EXPECT_FALSE(is_receipt(receipt_pdu("", 0x03)));  // messaging mode bits only
  EXPECT_FALSE(is_receipt(receipt_pdu("", 0x10)));  // manual/user acknowledgement: not a receipt
}

TEST(DeliveryReceipt, ParsesTheReferenceDocumentsExample) {
  // What tests/support/smsc sends (fax-sms.md 3.3): the text and the TLVs.
  auto message = receipt_pdu(
      "id:12 sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:DELIVRD "
      "err:000 text:");
  message.tlvs = {{tlv::receipted_message_id, std::string("12\0", 3)},
                  {tlv::message_state, "\x02"}};
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id, "12");
  EXPECT_EQ(receipt.state, ReceiptState::delivered);
  EXPECT_EQ(receipt.error, "000");
  EXPECT_EQ(receipt.done_date, "2501010000");
  EXPECT_EQ(receipt.text, message.short_message);
}

TEST(DeliveryReceipt, ParsesAKannelStyleTextWithoutTlvs) {
  // Fields in another case, text: last and holding field names itself.
  Receipt receipt = parsed(
      receipt_pdu("ID:0A1B2C3D Sub:001 Dlvrd:000 Submit date:1101011200 Done date:110101120530 "
                  "Stat:UNDELIV Err:001 Text:see you at id:5 stat:DELIVRD"));
  EXPECT_EQ(receipt.message_id, "0A1B2C3D");
  EXPECT_EQ(receipt.state, ReceiptState::undeliverable);
  EXPECT_EQ(receipt.error, "001");
  EXPECT_EQ(receipt.done_date, "110101120530");
}

TEST(DeliveryReceipt, FindsFieldsInAnyOrder) {
  Receipt receipt =
      parsed(receipt_pdu("stat:EXPIRED text:hello id:77 err:042 done date:2501011200"));
  EXPECT_EQ(receipt.message_id, "77");
  EXPECT_EQ(receipt.state, ReceiptState::expired);
  EXPECT_EQ(receipt.error, "042");
  EXPECT_EQ(receipt.done_date, "2501011200");
  // The spec's long state names, and names joined with an underscore.
  Receipt long_names = parsed(receipt_pdu("id:x1 done_date:2501011200 stat:DELIVERED"));
  EXPECT_EQ(long_names.state, ReceiptState::delivered);
  EXPECT_EQ(long_names.done_date, "2501011200");
}

TEST(DeliveryReceipt, ParsesATlvOnlyReceipt) {
  auto message = receipt_pdu("");
  message.tlvs = {{tlv::receipted_message_id, std::string("A1B2\0", 5)},
                  {tlv::message_state, "\x05"},
                  {tlv::network_error_code, std::string("\x03\x00\x22", 3)}};
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id, "A1B2");
  EXPECT_EQ(receipt.state, ReceiptState::undeliverable);
  EXPECT_EQ(receipt.error, "3:34");
  EXPECT_EQ(receipt.done_date, "");
  EXPECT_EQ(receipt.text, "");
}

TEST(DeliveryReceipt, TlvsWinOverTheText) {
  auto message = receipt_pdu("id:1 stat:DELIVRD err:000");
  message.tlvs = {{tlv::receipted_message_id, "2"},  // without its NUL
                  {tlv::message_state, "\x08"},
                  {tlv::network_error_code, std::string("\x01\x01\x00", 3)}};
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id, "2");
  EXPECT_EQ(receipt.state, ReceiptState::rejected);
  EXPECT_EQ(receipt.error, "1:256");
  // A message_state TLV out of range, or an empty id TLV, leaves the text's.
  message.tlvs = {{tlv::receipted_message_id, std::string("\0", 1)}, {tlv::message_state, "\x09"}};
  Receipt fallback = parsed(message);
  EXPECT_EQ(fallback.message_id, "1");
  EXPECT_EQ(fallback.state, ReceiptState::delivered);
  EXPECT_EQ(fallback.error, "000");
}

TEST(DeliveryReceipt, ReadsTheTextFromMessagePayload) {
  auto message = receipt_pdu("");
  message.tlvs = {{tlv::message_payload, "id:99 stat:ACCEPTD"}};
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id, "99");
  EXPECT_EQ(receipt.state, ReceiptState::accepted);
}

TEST(DeliveryReceipt, RefusesAReceiptWithoutIdOrState) {
  EXPECT_NE(refused(receipt_pdu("sub:001 stat:DELIVRD")).find("without a message id"),
            std::string::npos);
  EXPECT_NE(refused(receipt_pdu("id:5 stat:WHATEVER")).find("without a known state"),
            std::string::npos);
  // "sid:" is not "id:".
  refused(receipt_pdu("sid:5 stat:DELIVRD"));
  auto bad_state = receipt_pdu("id:5");
  bad_state.tlvs = {{tlv::message_state, std::string("\x00\x02", 2)}};
  refused(bad_state);
}

TEST(DeliveryReceipt, KeepsTheTextPrintable) {
  Receipt receipt = parsed(receipt_pdu("id:5 stat:DELIVRD text:\x01\x1b[31mred\r\n"));
  EXPECT_EQ(receipt.text, "id:5 stat:DELIVRD text:\\x01\\x1B[31mred");
}

TEST(DeliveryReceipt, StatesHaveTheirNamesAndFinality) {
  const std::pair<ReceiptState, std::string_view> names[] = {
      {ReceiptState::enroute, "ENROUTE"},       {ReceiptState::delivered, "DELIVRD"},
      {ReceiptState::expired, "EXPIRED"},       {ReceiptState::deleted, "DELETED"},
      {ReceiptState::undeliverable, "UNDELIV"}, {ReceiptState::accepted, "ACCEPTD"},
      {ReceiptState::unknown, "UNKNOWN"},       {ReceiptState::rejected, "REJECTD"},
  };
  for (auto [state, name] : names) {
    EXPECT_EQ(state_text(state), name);
    // The name parses back to the state.
    EXPECT_EQ(parsed(receipt_pdu("id:1 stat:" + std::string(name))).state, state) << name;
  }
  EXPECT_FALSE(is_final(ReceiptState::enroute));
  EXPECT_FALSE(is_final(ReceiptState::accepted));
  for (ReceiptState state :
       {ReceiptState::delivered, ReceiptState::expired, ReceiptState::deleted,
        ReceiptState::undeliverable, ReceiptState::unknown, ReceiptState::rejected})
    EXPECT_TRUE(is_final(state)) << state_text(state);
}

TEST(DeliveryReceipt, NormalisesHexAndDecimalIds) {
  // same: untouched.
  EXPECT_EQ(normalise_submit_id("00AB", ReceiptIds::same), "00AB");
  EXPECT_EQ(normalise_receipt_id("00AB", ReceiptIds::same), "00AB");

  // submit_sm_resp in hex, the receipt in decimal: both decimal.
  EXPECT_EQ(normalise_submit_id("0A1F", ReceiptIds::hex_to_decimal), "2591");
  EXPECT_EQ(normalise_receipt_id("0002591", ReceiptIds::hex_to_decimal), "2591");
  // Longer than 64 bits: 2^80 - 1.
  EXPECT_EQ(normalise_submit_id("ffffffffffffffffffff", ReceiptIds::hex_to_decimal),
            "1208925819614629174706175");

  // submit_sm_resp in decimal, the receipt in hex: both lower-case hex.
  EXPECT_EQ(normalise_submit_id("2591", ReceiptIds::decimal_to_hex), "a1f");
  EXPECT_EQ(normalise_receipt_id("000A1F", ReceiptIds::decimal_to_hex), "a1f");
  EXPECT_EQ(normalise_submit_id("1208925819614629174706175", ReceiptIds::decimal_to_hex),
            "ffffffffffffffffffff");

  // Zero, and ids that are not numbers in the expected base.
  EXPECT_EQ(normalise_submit_id("000", ReceiptIds::decimal_to_hex), "0");
  EXPECT_EQ(normalise_submit_id("12ab", ReceiptIds::decimal_to_hex), "12ab");
  EXPECT_EQ(normalise_receipt_id("12ab", ReceiptIds::hex_to_decimal), "12ab");
  EXPECT_EQ(normalise_submit_id("", ReceiptIds::hex_to_decimal), "");
  EXPECT_EQ(normalise_submit_id("0x1f", ReceiptIds::hex_to_decimal), "0x1f");

  // What the store matches: the two sides meet.
  EXPECT_EQ(normalise_submit_id("3e8", ReceiptIds::hex_to_decimal),
            normalise_receipt_id("1000", ReceiptIds::hex_to_decimal));
  EXPECT_EQ(normalise_submit_id("1000", ReceiptIds::decimal_to_hex),
            normalise_receipt_id("3E8", ReceiptIds::decimal_to_hex));
}

TEST(DeliveryReceipt, ArbitraryTextsAreParsedOrRefused) {
  // Pseudo-random texts built from field names, values and noise: an
  // accepted receipt has an id without white space and a printable text.
  const char* pieces[] = {
      "id:7 ", "stat:DELIVRD ", "text:", "err:000 ", "ID:ab",           " ",           "\x01",
      "\xff",  "stat:",         "id:",   "x",        "done date:2501 ", "Stat:undeliv"};
  std::uint32_t seed = 99;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
  };
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    for (unsigned i = next() % 12; i > 0; --i) text += pieces[next() % std::size(pieces)];
    auto result = parse_receipt(receipt_pdu(text));
    if (!result.ok()) continue;
    ++accepted;
    EXPECT_FALSE(result->message_id.empty());
    EXPECT_EQ(result->message_id.find(' '), std::string::npos) << text;
    EXPECT_EQ(result->text.find('\x01'), std::string::npos) << text;
  }
  EXPECT_GT(accepted, 50);
}

TEST(DeliveryReceipt, OddTlvSizesFromTheSmscFallBackToTheText) {
  // The SMSC's deliver_sm with a message_state of 2 octets and a
  // network_error_code of 2 (the spec says 1 and 3): the codec keeps them
  // raw (it used to answer ESME_RINVPARLEN, and the SMSC dropped the
  // receipt), and the receipt is read from the text.
  namespace smpp = bh::connectors::sms::smpp;
  smpp::Pdu pdu{smpp::command::deliver_sm, 0, 3,
                receipt_pdu("id:5A sub:001 dlvrd:001 stat:DELIVRD err:000 text:")};
  auto encoded = smpp::encode(pdu);
  ASSERT_TRUE(encoded) << encoded.error().message;
  std::string frame = *encoded + std::string("\x04\x27\x00\x02\x02\x00", 6) +
                      std::string("\x04\x23\x00\x02\x00\x01", 6);
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>(frame.size() >> (24 - 8 * i));
  auto decoded =
      smpp::decode(std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()));
  ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(decoded))
      << std::get<smpp::DecodeError>(decoded).text;
  const auto& message = std::get<smpp::ShortMessage>(std::get<smpp::Pdu>(decoded).body);
  ASSERT_EQ(message.tlvs.size(), 2u);
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id, "5A");
  EXPECT_EQ(receipt.state, ReceiptState::delivered);
  EXPECT_EQ(receipt.error, "000");

  // The same for a receipted_message_id that is no C-octet string, and the
  // TLV winning when it is usable.
  auto odd_id = receipt_pdu("id:7 stat:UNDELIV");
  odd_id.tlvs = {{tlv::receipted_message_id, std::string(70, '9')}, {tlv::message_state, "\x02"}};
  Receipt long_id = parsed(odd_id);
  EXPECT_EQ(long_id.message_id, std::string(70, '9'));
  EXPECT_EQ(long_id.state, ReceiptState::delivered);
}

TEST(DeliveryReceipt, IdsTooLongForAnSmscAreNotConverted) {
  // Up to 65 characters converted; a longer one (a receipt text's id can
  // be as long as a 64 KiB message_payload) is left as it is, unread:
  // the conversion is quadratic in the length.
  const std::string zeros65 = std::string(64, '0') + "1";
  EXPECT_EQ(normalise_receipt_id(zeros65, ReceiptIds::decimal_to_hex), "1");
  EXPECT_EQ(normalise_submit_id(zeros65, ReceiptIds::hex_to_decimal), "1");
  const std::string zeros66 = "0" + zeros65;
  EXPECT_EQ(normalise_receipt_id(zeros66, ReceiptIds::decimal_to_hex), zeros66);
  EXPECT_EQ(normalise_receipt_id(zeros66, ReceiptIds::hex_to_decimal), zeros66);
  EXPECT_EQ(normalise_submit_id(zeros66, ReceiptIds::hex_to_decimal), zeros66);
  EXPECT_EQ(normalise_submit_id(zeros66, ReceiptIds::decimal_to_hex), zeros66);

  // A receipt whose text id fills a message_payload: parsed, and its id
  // normalised unchanged (without the bound this took seconds).
  auto message = receipt_pdu("");
  std::string id = "0" + std::string(65000, '7');
  message.tlvs = {{tlv::message_payload, "id:" + id + " stat:DELIVRD"}};
  Receipt receipt = parsed(message);
  EXPECT_EQ(receipt.message_id.size(), id.size());
  EXPECT_EQ(normalise_receipt_id(receipt.message_id, ReceiptIds::hex_to_decimal), id);
}
