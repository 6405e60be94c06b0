// The SMPP codec: golden PDUs from the spec both ways, round trips,
// encode's refusals, status names, responses. Decoding hostile frames:
// smpp_pdu_decode_test.cpp.
#include "connectors/sms/smpp_pdu.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sms/smpp_pdu_samples.hpp"

namespace smpp = bh::connectors::sms::smpp;
using bh::test::smpp_samples::hex;
using bh::test::smpp_samples::octets;
using bh::test::smpp_samples::samples;

namespace {

smpp::Pdu decoded(const std::string& bytes) {
  auto result = smpp::decode(octets(bytes));
  if (auto* error = std::get_if<smpp::DecodeError>(&result)) {
    ADD_FAILURE() << "decode failed: " << error->text;
    return {};
  }
  return std::get<smpp::Pdu>(result);
}

std::string encoded(const smpp::Pdu& pdu) {
  auto result = smpp::encode(pdu);
  EXPECT_TRUE(result) << result.error().message;
  return result ? *result : std::string();
}

// What encode refuses, with its message.
std::string refused(const smpp::Pdu& pdu) {
  auto result = smpp::encode(pdu);
  EXPECT_FALSE(result) << "encoded a PDU that should be refused";
  return result ? std::string() : result.error().message;
}

smpp::ShortMessage basic_message() {
  smpp::ShortMessage m;
  m.source = {1, 1, "4930123456"};
  m.destination = {1, 1, "4915112345678"};
  m.short_message = "hello";
  return m;
}

smpp::Pdu submit(smpp::ShortMessage m) {
  return smpp::Pdu{smpp::command::submit_sm, 0, 5, std::move(m)};
}

smpp::Pdu bind_with(smpp::Bind b) {
  return smpp::Pdu{smpp::command::bind_transceiver, 0, 1, std::move(b)};
}

}  // namespace

TEST(SmppPduGolden, EncodesToTheSpecOctets) {
  for (const auto& sample : samples()) {
    SCOPED_TRACE(sample.name);
    EXPECT_EQ(encoded(sample.pdu), sample.bytes);
  }
}

TEST(SmppPduGolden, DecodesTheSpecOctets) {
  for (const auto& sample : samples()) {
    SCOPED_TRACE(sample.name);
    auto frame = smpp::frame_length(octets(sample.bytes));
    ASSERT_TRUE(frame);
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ(**frame, sample.bytes.size());
    EXPECT_EQ(decoded(sample.bytes), sample.pdu);
  }
}

TEST(SmppPduGolden, ReceiptFieldsReadable) {
  auto pdu = decoded(samples()[4].bytes);
  const auto& m = std::get<smpp::ShortMessage>(pdu.body);
  EXPECT_EQ(m.esm_class, 0x04);
  EXPECT_EQ(m.short_message, bh::test::smpp_samples::receipt_text());
  const auto* id = smpp::find_tlv(m.tlvs, smpp::tlv::receipted_message_id);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->value, std::string("7\0", 2));
  const auto* state = smpp::find_tlv(m.tlvs, smpp::tlv::message_state);
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->value, "\x02");
  EXPECT_EQ(smpp::find_tlv(m.tlvs, smpp::tlv::network_error_code), nullptr);
}

TEST(SmppPduRoundTrip, EveryFieldAtItsMaximum) {
  smpp::ShortMessage m;
  m.service_type = "CMT01";
  m.source = {2, 8, std::string(20, '1')};
  m.destination = {6, 18, std::string(20, '9')};
  m.esm_class = 0x43;
  m.protocol_id = 0x7f;
  m.priority_flag = 3;
  m.schedule_delivery_time = "251231235959000+";
  m.validity_period = "000001000000000R";
  m.registered_delivery = 0x11;
  m.replace_if_present = 1;
  m.data_coding = 0xf5;
  m.sm_default_msg_id = 0xfe;
  m.short_message = std::string(254, '\xff');
  m.tlvs = {{smpp::tlv::sar_msg_ref_num, hex("ab cd")},
            {smpp::tlv::sar_total_segments, hex("03")},
            {smpp::tlv::sar_segment_seqnum, hex("01")},
            {0x1401, ""},  // a vendor TLV of length 0, passed through
            {smpp::tlv::network_error_code, hex("03 00 0b")}};
  for (auto id : {smpp::command::submit_sm, smpp::command::deliver_sm}) {
    smpp::Pdu pdu{id, 0, 0x7fffffff, m};
    EXPECT_EQ(decoded(encoded(pdu)), pdu);
  }

  smpp::Bind b{std::string(15, 's'),
               std::string(8, 'p'),
               std::string(12, 't'),
               0x33,
               {1, 1, std::string(40, '4')}};
  for (auto id : {smpp::command::bind_receiver, smpp::command::bind_transmitter,
                  smpp::command::bind_transceiver}) {
    smpp::Pdu pdu{id, 0, 1, b};
    EXPECT_EQ(decoded(encoded(pdu)), pdu);
  }
  smpp::Pdu resp{smpp::command::submit_sm | smpp::command::response_bit, 0, 9,
                 smpp::MessageIdResponse{std::string(64, 'f')}};
  EXPECT_EQ(decoded(encoded(resp)), resp);
}

TEST(SmppPduRoundTrip, MessagePayloadOf64KiB) {
  smpp::ShortMessage m = basic_message();
  m.short_message.clear();
  m.tlvs = {{smpp::tlv::message_payload, std::string(65535, 'x')}};
  auto bytes = encoded(submit(m));
  EXPECT_LE(bytes.size(), smpp::kMaxPduSize);
  EXPECT_EQ(decoded(bytes), submit(m));
}

TEST(SmppPduRoundTrip, HeaderOnlyCommands) {
  using namespace smpp::command;
  for (std::uint32_t id :
       {enquire_link, enquire_link | response_bit, unbind, unbind | response_bit, generic_nack}) {
    smpp::Pdu pdu{id, 0, 77, smpp::Empty{}};
    auto bytes = encoded(pdu);
    EXPECT_EQ(bytes.size(), smpp::kHeaderSize);
    EXPECT_EQ(decoded(bytes), pdu);
  }
}

TEST(SmppPduRoundTrip, ErrorResponsesWithoutBody) {
  using namespace smpp::command;
  // An error response written as Empty has no body; it decodes as its
  // response type with empty fields.
  smpp::Pdu submit_error{submit_sm | response_bit, smpp::status::throttled, 4, smpp::Empty{}};
  EXPECT_EQ(encoded(submit_error), hex("00000010 80000004 00000058 00000004"));
  EXPECT_EQ(decoded(encoded(submit_error)).body, smpp::Body(smpp::MessageIdResponse{}));

  smpp::Pdu bind_error{bind_transceiver | response_bit, smpp::status::bind_failed, 1,
                       smpp::Empty{}};
  EXPECT_EQ(encoded(bind_error), hex("00000010 80000009 0000000d 00000001"));
  EXPECT_EQ(decoded(encoded(bind_error)).body, smpp::Body(smpp::BindResponse{}));

  // With status 0, an Empty body means the default one: deliver_sm_resp's
  // single NUL octet.
  smpp::Pdu deliver_ok{deliver_sm | response_bit, 0, 42, smpp::Empty{}};
  EXPECT_EQ(encoded(deliver_ok), hex("00000011 80000005 00000000 0000002a 00"));
}

TEST(SmppPduEncode, RefusesOversizeStrings) {
  auto check = [](smpp::Pdu pdu, const std::string& field) {
    EXPECT_NE(refused(pdu).find(field), std::string::npos) << field;
  };
  check(bind_with({std::string(16, 's'), "", "", 0x34, {}}), "system_id");
  check(bind_with({"s", std::string(9, 'p'), "", 0x34, {}}), "password");
  check(bind_with({"s", "p", std::string(13, 't'), 0x34, {}}), "system_type");
  check(bind_with({"s", "p", "", 0x34, {0, 0, std::string(41, '1')}}), "address_range");

  auto m = basic_message();
  m.service_type = "CMT012";
  check(submit(m), "service_type");
  m = basic_message();
  m.source.address = std::string(21, '1');
  check(submit(m), "source_addr");
  m = basic_message();
  m.destination.address = std::string(21, '1');
  check(submit(m), "destination_addr");
  m = basic_message();
  m.short_message = std::string(255, 'x');
  check(submit(m), "short_message");
  for (std::size_t size : {1, 15, 17}) {
    m = basic_message();
    m.schedule_delivery_time = std::string(size, '0');
    check(submit(m), "schedule_delivery_time");
    m = basic_message();
    m.validity_period = std::string(size, '0');
    check(submit(m), "validity_period");
  }

  using namespace smpp::command;
  check({submit_sm | response_bit, 0, 1, smpp::MessageIdResponse{std::string(65, 'f')}},
        "message_id");
  check({deliver_sm | response_bit, 0, 1, smpp::MessageIdResponse{"1"}}, "message_id");
  check({bind_transceiver | response_bit, 0, 1, smpp::BindResponse{std::string(16, 'x'), {}}},
        "system_id");
}

TEST(SmppPduEncode, RefusesWhatDecodeWouldRefuse) {
  auto m = basic_message();
  m.source.address = std::string(
      "49\0"
      "30",
      5);
  EXPECT_NE(refused(submit(m)).find("NUL"), std::string::npos);

  m = basic_message();
  m.tlvs = {{smpp::tlv::message_state, hex("02 00")}};
  EXPECT_NE(refused(submit(m)).find("0x0427"), std::string::npos);
  m.tlvs = {{0x1400, std::string(65536, 'x')}};
  EXPECT_NE(refused(submit(m)).find("65535"), std::string::npos);
  m.tlvs = {{smpp::tlv::message_payload, "more"}};  // and short_message "hello"
  EXPECT_NE(refused(submit(m)).find("message_payload"), std::string::npos);

  // The PDU as a whole over kMaxPduSize.
  m = basic_message();
  m.short_message.clear();
  m.tlvs = {{smpp::tlv::message_payload, std::string(65535, 'x')},
            {0x1400, std::string(2000, 'y')}};
  EXPECT_NE(refused(submit(m)).find("octets >"), std::string::npos);
}

TEST(SmppPduEncode, RefusesBadHeaders) {
  using namespace smpp::command;
  EXPECT_NE(refused({0x00000999, 0, 1, smpp::Empty{}}).find("unknown command_id"),
            std::string::npos);
  EXPECT_NE(refused({submit_sm, 0, 0, basic_message()}).find("sequence_number"), std::string::npos);
  EXPECT_NE(refused({enquire_link, 0, 0x80000000, smpp::Empty{}}).find("sequence_number"),
            std::string::npos);
  // A body that does not belong to the command.
  EXPECT_NE(refused({submit_sm, 0, 1, smpp::Empty{}}).find("Empty body"), std::string::npos);
  EXPECT_NE(refused({enquire_link, 0, 1, basic_message()}).find("ShortMessage body"),
            std::string::npos);
  EXPECT_NE(refused({bind_transceiver, 0, 1, smpp::BindResponse{}}).find("BindResponse body"),
            std::string::npos);
  // Responses may carry sequence 0 (generic_nack to an undecodable PDU).
  EXPECT_TRUE(smpp::encode({generic_nack, smpp::status::invalid_command_length, 0, smpp::Empty{}}));
}

TEST(SmppPduStatus, NamesAndNumbers) {
  EXPECT_EQ(smpp::status_name(smpp::status::throttled), "ESME_RTHROTTLED (0x00000058)");
  EXPECT_EQ(smpp::status_name(smpp::status::bind_failed), "ESME_RBINDFAIL (0x0000000d)");
  EXPECT_EQ(smpp::status_name(0), "ESME_ROK (0x00000000)");
  EXPECT_EQ(smpp::status_name(0x123), "0x00000123");
  EXPECT_EQ(smpp::status_name(0xffffffff), "0xffffffff");
  using namespace smpp::status;
  const std::pair<std::uint32_t, const char*> named[] = {
      {invalid_message_length, "ESME_RINVMSGLEN"},
      {invalid_command_length, "ESME_RINVCMDLEN"},
      {invalid_command_id, "ESME_RINVCMDID"},
      {invalid_bind_status, "ESME_RINVBNDSTS"},
      {already_bound, "ESME_RALYBND"},
      {system_error, "ESME_RSYSERR"},
      {invalid_source_address, "ESME_RINVSRCADR"},
      {invalid_dest_address, "ESME_RINVDSTADR"},
      {invalid_message_id, "ESME_RINVMSGID"},
      {invalid_password, "ESME_RINVPASWD"},
      {invalid_system_id, "ESME_RINVSYSID"},
      {message_queue_full, "ESME_RMSGQFUL"},
      {invalid_service_type, "ESME_RINVSERTYP"},
      {invalid_esm_class, "ESME_RINVESMCLASS"},
      {submit_failed, "ESME_RSUBMITFAIL"},
      {invalid_system_type, "ESME_RINVSYSTYP"},
      {invalid_schedule_time, "ESME_RINVSCHED"},
      {invalid_validity_period, "ESME_RINVEXPIRY"},
      {temporary_app_error, "ESME_RX_T_APPN"},
      {permanent_app_error, "ESME_RX_P_APPN"},
      {reject_message, "ESME_RX_R_APPN"},
      {invalid_optional_parameter, "ESME_RINVOPTPARSTREAM"},
      {invalid_parameter_length, "ESME_RINVPARLEN"},
      {unknown_error, "ESME_RUNKNOWNERR"},
  };
  for (const auto& [value, name] : named)
    EXPECT_EQ(smpp::status_name(value).rfind(name, 0), 0u) << name;
}

TEST(SmppPduResponse, MatchesTheRequest) {
  using namespace smpp::command;
  smpp::Pdu request = submit(basic_message());
  auto resp = smpp::response_to(request, 0, smpp::MessageIdResponse{"abc"});
  EXPECT_EQ(resp.command_id, submit_sm | response_bit);
  EXPECT_EQ(resp.sequence, 5u);
  EXPECT_EQ(resp.command_status, 0u);
  EXPECT_EQ(encoded(resp), hex("00000014 80000004 00000000 00000005 616263 00"));

  smpp::Pdu enquire{enquire_link, 0, 9, smpp::Empty{}};
  EXPECT_EQ(encoded(smpp::response_to(enquire, 0)), hex("00000010 80000015 00000000 00000009"));

  // Commands without a _resp of their own, and unknown ones: generic_nack.
  for (std::uint32_t id :
       {outbind, alert_notification, 0x00000999u, generic_nack, submit_sm | response_bit}) {
    auto nack = smpp::response_to({id, 0, 3, smpp::Empty{}}, smpp::status::invalid_command_id);
    EXPECT_EQ(nack.command_id, generic_nack) << id;
    EXPECT_EQ(nack.sequence, 3u);
  }
  // A request Bridgehead does not serve gets its own _resp.
  EXPECT_EQ(smpp::response_to({query_sm, 0, 3, smpp::Empty{}}, 3).command_id,
            query_sm | response_bit);
}

TEST(SmppPduTlv, FindTlvReturnsTheFirst) {
  std::vector<smpp::Tlv> tlvs = {{0x0427, "a"}, {0x001e, "b"}, {0x0427, "c"}};
  ASSERT_NE(smpp::find_tlv(tlvs, 0x0427), nullptr);
  EXPECT_EQ(smpp::find_tlv(tlvs, 0x0427)->value, "a");
  EXPECT_EQ(smpp::find_tlv(tlvs, 0x001e)->value, "b");
  EXPECT_EQ(smpp::find_tlv(tlvs, 0x0424), nullptr);
  EXPECT_EQ(smpp::find_tlv({}, 0x0424), nullptr);
}
