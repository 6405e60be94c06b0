// The SMPP decoder against frames the spec does not allow: framing,
// every truncation of the golden PDUs, each field over its maximum, TLVs
// that do not fit, and the status each refusal answers with; and what is
// taken leniently instead (responses, a deliver_sm's TLV sizes), noted.
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/sms/smpp_pdu.hpp"
#include "tests/unit/sms/smpp_pdu_samples.hpp"

namespace smpp = bh::connectors::sms::smpp;
using bh::test::smpp_samples::framed;
using bh::test::smpp_samples::hex;
using bh::test::smpp_samples::message_id_of;
using bh::test::smpp_samples::octets;
using bh::test::smpp_samples::samples;
using bh::test::smpp_samples::taken;

namespace {

smpp::DecodeError refusal(const std::string& bytes) {
  auto result = smpp::decode(octets(bytes));
  if (auto* error = std::get_if<smpp::DecodeError>(&result)) return *error;
  ADD_FAILURE() << "decoded a frame that should be refused";
  return {};
}

// A submit_sm header and the body octets after it, command_length filled in.
std::string submit_sm(const std::string& body) {
  return framed(hex("00000000 00000004 00000000 00000005") + body);
}

// service_type, source, destination; esm_class .. sm_default_msg_id of a
// plain submit_sm, to which a test adds sm_length and short_message.
const std::string kAddresses = hex("00 | 01 01 31 00 | 01 01 32 00");
const std::string kFlags = hex("00 00 00 | 00 | 00 | 00 00 00 00");

}  // namespace

TEST(SmppPduFraming, FrameLength) {
  for (std::size_t n = 0; n < 4; ++n) {
    std::string bytes(n, '\0');
    auto result = smpp::frame_length(octets(bytes));
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->has_value()) << n;
  }
  // Four octets are enough to know the length; the rest may follow later.
  auto partial = smpp::frame_length(octets(hex("00000011 8000")));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->value_or(0), 17u);

  for (std::uint32_t bad :
       {0u, 4u, 15u, static_cast<std::uint32_t>(smpp::kMaxPduSize + 1), 0xffffffffu}) {
    std::string bytes = framed(std::string(4, '\0'));
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(bad >> (24 - 8 * i));
    auto result = smpp::frame_length(octets(bytes));
    EXPECT_FALSE(result) << bad;
    if (!result) {
      EXPECT_NE(result.error().message.find(std::to_string(bad)), std::string::npos);
    }
  }
  for (std::uint32_t good : {16u, static_cast<std::uint32_t>(smpp::kMaxPduSize)}) {
    std::string bytes(4, '\0');
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(good >> (24 - 8 * i));
    auto result = smpp::frame_length(octets(bytes));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->value_or(0), good);
  }
}

TEST(SmppPduFraming, ShortAndMismatchedFrames) {
  auto short_header = refusal(hex("00000010 00000015 000000"));
  EXPECT_EQ(short_header.command_id, 0u);
  EXPECT_EQ(short_header.sequence, 0u);
  EXPECT_EQ(short_header.status, smpp::status::invalid_command_length);

  // command_length says 17 but the frame is the 16-octet header.
  auto mismatch = refusal(hex("00000011 00000015 00000000 00000007"));
  EXPECT_EQ(mismatch.command_id, smpp::command::enquire_link);
  EXPECT_EQ(mismatch.sequence, 7u);
  EXPECT_EQ(mismatch.status, smpp::status::invalid_command_length);
  EXPECT_NE(mismatch.text.find("command_length 17"), std::string::npos);
}

TEST(SmppPduTruncation, EveryCutOfEveryGoldenPduFailsCleanly) {
  for (const auto& sample : samples()) {
    SCOPED_TRACE(sample.name);
    const auto& full = sample.bytes;
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
      SCOPED_TRACE(cut);
      // As received: command_length still says the full size.
      std::string prefix = full.substr(0, cut);
      auto as_received = smpp::decode(octets(prefix));
      EXPECT_TRUE(std::holds_alternative<smpp::DecodeError>(as_received));
      // With command_length patched to the cut, the body itself is short:
      // refused, except where the cut falls between whole TLVs. A response
      // with a whole header is taken, its flaw noted.
      if (cut < 4) continue;
      auto patched = smpp::decode(octets(framed(prefix)));
      bool valid = std::find(sample.valid_cuts.begin(), sample.valid_cuts.end(), cut) !=
                   sample.valid_cuts.end();
      bool lenient = sample.response && cut >= smpp::kHeaderSize;
      EXPECT_EQ(std::holds_alternative<smpp::Pdu>(patched), valid || lenient);
      if (auto* pdu = std::get_if<smpp::Pdu>(&patched)) {
        EXPECT_EQ(pdu->irregularity.empty(), valid) << pdu->irregularity;
        EXPECT_EQ(pdu->command_status, sample.pdu.command_status);
        EXPECT_EQ(pdu->body.index(), sample.pdu.body.index());
      }
      if (auto* error = std::get_if<smpp::DecodeError>(&patched); error && cut >= 16) {
        EXPECT_EQ(error->command_id, sample.pdu.command_id);
        EXPECT_EQ(error->sequence, sample.pdu.sequence);
        EXPECT_FALSE(error->text.empty());
      }
    }
  }
}

TEST(SmppPduDecode, UnknownAndUnreadCommands) {
  auto unknown = refusal(hex("00000010 00000999 00000000 00000004"));
  EXPECT_EQ(unknown.status, smpp::status::invalid_command_id);
  EXPECT_EQ(unknown.command_id, 0x999u);
  EXPECT_EQ(unknown.sequence, 4u);
  // There is no outbind_resp or alert_notification_resp.
  EXPECT_EQ(refusal(hex("00000010 8000000b 00000000 00000004")).status,
            smpp::status::invalid_command_id);
  EXPECT_EQ(refusal(hex("00000010 80000102 00000000 00000004")).status,
            smpp::status::invalid_command_id);

  // Known but not read: Empty, header kept, whatever the body.
  for (std::uint32_t id : {smpp::command::query_sm, smpp::command::data_sm,
                           smpp::command::data_sm | smpp::command::response_bit,
                           smpp::command::outbind, smpp::command::alert_notification}) {
    std::string bytes = framed(hex("00000000") + hex("00000000") + hex("00000000 00000009 ff 01"));
    for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<char>(id >> (24 - 8 * i));
    auto result = smpp::decode(octets(bytes));
    ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(result)) << id;
    const auto& pdu = std::get<smpp::Pdu>(result);
    EXPECT_EQ(pdu.command_id, id);
    EXPECT_EQ(pdu.sequence, 9u);
    EXPECT_TRUE(std::holds_alternative<smpp::Empty>(pdu.body));
  }
}

TEST(SmppPduDecode, SequenceNumbers) {
  // A request must have 1 .. 0x7fffffff (spec 3.2); no status names the
  // fault, so it is answered as a bad header (ESME_RINVCMDLEN).
  for (const char* sequence : {"00000000", "80000000", "ffffffff"}) {
    auto error = refusal(hex(std::string("00000010 00000015 00000000 ") + sequence));
    EXPECT_EQ(error.status, smpp::status::invalid_command_length) << sequence;
    EXPECT_NE(error.text.find("sequence_number"), std::string::npos);
  }
  auto top = smpp::decode(octets(hex("00000010 00000015 00000000 7fffffff")));
  EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(top));
  // A response is matched by the session, not checked here: generic_nack
  // answers an undecodable PDU with sequence 0.
  auto nack = smpp::decode(octets(hex("00000010 80000000 00000002 00000000")));
  EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(nack));
}

TEST(SmppPduDecode, LeftOverOctets) {
  // In a request: refused.
  auto enquire = refusal(hex("00000011 00000015 00000000 00000001 00"));
  EXPECT_EQ(enquire.status, smpp::status::invalid_command_length);
  EXPECT_NE(enquire.text.find("left over"), std::string::npos);
  // bind has no TLVs in 3.4.
  EXPECT_EQ(refusal(framed(samples()[0].bytes + hex("0210 0001 34"))).status,
            smpp::status::invalid_command_length);
  // In a response: ignored, noted.
  auto resp = taken(hex("00000018 80000004 00000000 00000001 31 00 32 00 33 00 34 00"));
  EXPECT_EQ(message_id_of(resp), "1");
  EXPECT_NE(resp.irregularity.find("6 octets left over"), std::string::npos) << resp.irregularity;
  EXPECT_EQ(message_id_of(taken(hex("00000012 80000005 00000000 00000001 00 00"))), "");
  auto enquire_resp = taken(hex("00000011 80000015 00000000 00000001 00"));
  EXPECT_EQ(enquire_resp.body, smpp::Body(smpp::Empty{}));
  auto nack = taken(hex("00000012 80000000 00000003 00000001 ff ff"));
  EXPECT_EQ(nack.command_status, smpp::status::invalid_command_id);
}

TEST(SmppPduDecode, StringsOverTheirMaxima) {
  auto bind = [](const std::string& fields) {
    return framed(hex("00000000 00000009 00000000 00000001") + fields);
  };
  const std::string s16(16, 's');
  EXPECT_EQ(refusal(bind(s16 + hex("00 00 00 34 00 00 00"))).status,
            smpp::status::invalid_system_id);
  EXPECT_EQ(refusal(bind(hex("00") + std::string(9, 'p') + hex("00 00 34 00 00 00"))).status,
            smpp::status::invalid_password);
  EXPECT_EQ(refusal(bind(hex("00 00") + std::string(13, 't') + hex("00 34 00 00 00"))).status,
            smpp::status::invalid_system_type);
  EXPECT_EQ(refusal(bind(hex("00 00 00 34 00 00") + std::string(41, '1') + hex("00"))).status,
            smpp::status::invalid_command_length);
  // At their maxima they are accepted.
  auto at_max = smpp::decode(
      octets(bind(std::string(15, 's') + hex("00") + std::string(8, 'p') + hex("00") +
                  std::string(12, 't') + hex("00 34 00 00") + std::string(40, '1') + hex("00"))));
  EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(at_max));

  const std::string tail = kFlags + hex("00");
  EXPECT_EQ(
      refusal(submit_sm(hex("43 4d 54 30 31 32 00 | 01 01 31 00 | 01 01 32 00") + tail)).status,
      smpp::status::invalid_service_type);
  EXPECT_EQ(
      refusal(submit_sm(hex("00 01 01") + std::string(21, '1') + hex("00 01 01 32 00") + tail))
          .status,
      smpp::status::invalid_source_address);
  EXPECT_EQ(
      refusal(submit_sm(hex("00 01 01 31 00 01 01") + std::string(21, '2') + hex("00") + tail))
          .status,
      smpp::status::invalid_dest_address);
  // A response's strings over their maxima are kept (see SmppPduLenient).
  auto message_id =
      taken(framed(hex("00000000 80000004 00000000 00000001") + std::string(65, 'f') + hex("00")));
  EXPECT_EQ(message_id_of(message_id), std::string(65, 'f'));
  EXPECT_NE(message_id.irregularity.find("65 characters, over the spec's 64"), std::string::npos)
      << message_id.irregularity;
  // deliver_sm_resp's message_id is unused: one NUL octet; another is noted.
  EXPECT_EQ(message_id_of(taken(hex("00000012 80000005 00000000 00000001 31 00"))), "1");
}

TEST(SmppPduDecode, StringsWithoutTheirNul) {
  // The frame ends inside system_id.
  auto error = refusal(hex("00000014 00000009 00000000 00000001 74 65 73 74"));
  EXPECT_EQ(error.status, smpp::status::invalid_command_length);
  EXPECT_NE(error.text.find("system_id"), std::string::npos);
  // A response's: read to the end of the frame, noted.
  auto resp = taken(hex("00000013 80000004 00000000 00000001 31 32 33"));
  EXPECT_EQ(message_id_of(resp), "123");
  EXPECT_NE(resp.irregularity.find("no NUL"), std::string::npos) << resp.irregularity;
}

TEST(SmppPduDecode, TimesAreEmptyOrSixteen) {
  auto with_times = [](const std::string& schedule, const std::string& validity) {
    return submit_sm(kAddresses + hex("00 00 00") + schedule + hex("00") + validity +
                     hex("00 | 00 00 00 00 | 00"));
  };
  const std::string t16 = "250101120000000+";
  EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(smpp::decode(octets(with_times(t16, t16)))));
  for (std::size_t n : {1, 12, 15}) {
    EXPECT_EQ(refusal(with_times(std::string(n, '0'), "")).status,
              smpp::status::invalid_schedule_time);
    EXPECT_EQ(refusal(with_times("", std::string(n, '0'))).status,
              smpp::status::invalid_validity_period);
  }
  EXPECT_EQ(refusal(with_times(t16 + "0", "")).status, smpp::status::invalid_schedule_time);
  EXPECT_EQ(refusal(with_times("", t16 + "0")).status, smpp::status::invalid_validity_period);
}

TEST(SmppPduDecode, ShortMessageLength) {
  auto too_long = refusal(submit_sm(kAddresses + kFlags + hex("ff") + std::string(255, 'x')));
  EXPECT_EQ(too_long.status, smpp::status::invalid_message_length);
  EXPECT_NE(too_long.text.find("sm_length 255 > 254"), std::string::npos);
  auto beyond = refusal(submit_sm(kAddresses + kFlags + hex("05") + "abcd"));
  EXPECT_EQ(beyond.status, smpp::status::invalid_command_length);
  EXPECT_NE(beyond.text.find("beyond"), std::string::npos);
  auto ok =
      smpp::decode(octets(submit_sm(kAddresses + kFlags + hex("fe") + std::string(254, 'x'))));
  ASSERT_TRUE(std::holds_alternative<smpp::Pdu>(ok));
  EXPECT_EQ(std::get<smpp::ShortMessage>(std::get<smpp::Pdu>(ok).body).short_message.size(), 254u);
  // short_message and message_payload together (spec 5.3.2.32).
  EXPECT_EQ(refusal(submit_sm(kAddresses + kFlags + hex("01 41 | 0424 0001 42"))).status,
            smpp::status::invalid_message_length);
}

TEST(SmppPduDecode, TlvsThatDoNotFit) {
  const std::string head = kAddresses + kFlags + hex("00");
  for (const char* stub : {"04", "0424", "0424 00"}) {
    auto error = refusal(submit_sm(head + hex(stub)));
    EXPECT_EQ(error.status, smpp::status::invalid_optional_parameter) << stub;
  }
  auto beyond = refusal(submit_sm(head + hex("0424 0005 41 42")));
  EXPECT_EQ(beyond.status, smpp::status::invalid_optional_parameter);
  EXPECT_NE(beyond.text.find("0x0424"), std::string::npos);
  // The same after a first good TLV, and in a deliver_sm.
  EXPECT_EQ(refusal(submit_sm(head + hex("0427 0001 02 | 001e 0009 41"))).status,
            smpp::status::invalid_optional_parameter);
  EXPECT_EQ(refusal(framed(hex("00000000 00000005 00000000 00000001") + head + hex("0427 0002 02")))
                .status,
            smpp::status::invalid_optional_parameter);
  // A bind_resp keeps the TLVs that fit and ignores the rest.
  auto bind_resp =
      taken(framed(hex("00000000 80000009 00000000 00000001 53 00 0210 0001 34 0210 00")));
  const auto* body = std::get_if<smpp::BindResponse>(&bind_resp.body);
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->system_id, "S");
  EXPECT_EQ(body->tlvs, (std::vector<smpp::Tlv>{{smpp::tlv::sc_interface_version, hex("34")}}));
  EXPECT_NE(bind_resp.irregularity.find("the rest ignored"), std::string::npos);
}

TEST(SmppPduDecode, TlvLengthsTheSpecFixes) {
  const std::string head = kAddresses + kFlags + hex("00");
  for (const char* tlv : {"0427 0000", "0427 0002 0202", "020c 0001 01", "020e 0002 0001",
                          "020f 0000", "0423 0002 0300", "001e 0000", "001e 0003 31 00 32"}) {
    EXPECT_EQ(refusal(submit_sm(head + hex(tlv))).status, smpp::status::invalid_parameter_length)
        << tlv;
  }
  // In a bind_resp (lenient) and a deliver_sm (the SMSC's receipts) the
  // same TLVs are kept raw, noted.
  auto bind_resp = taken(framed(hex("00000000 80000009 00000000 00000001 53 00 0210 0002 3400")));
  ASSERT_TRUE(std::holds_alternative<smpp::BindResponse>(bind_resp.body));
  EXPECT_EQ(std::get<smpp::BindResponse>(bind_resp.body).tlvs[0].value, hex("3400"));
  for (const char* tlv : {"0427 0000", "0427 0002 0202", "020c 0001 01", "020e 0002 0001",
                          "020f 0000", "0423 0002 0300", "001e 0000", "001e 0003 31 00 32"}) {
    SCOPED_TRACE(tlv);
    auto deliver = taken(framed(hex("00000000 00000005 00000000 00000001") + head + hex(tlv)));
    const auto* message = std::get_if<smpp::ShortMessage>(&deliver.body);
    ASSERT_NE(message, nullptr);
    ASSERT_EQ(message->tlvs.size(), 1u);
    std::string raw = hex(tlv);
    EXPECT_EQ(message->tlvs[0].value, raw.substr(4));
    EXPECT_NE(deliver.irregularity.find("kept raw"), std::string::npos) << deliver.irregularity;
    // What we encode stays strict.
    EXPECT_FALSE(smpp::encode(deliver));
  }
  // receipted_message_id up to 65 octets, its NUL optional; unknown tags
  // of any length pass.
  std::string id65 = std::string(64, 'a') + std::string(1, '\0');
  for (const std::string& tlv : {hex("001e 0041") + id65, hex("001e 0002 3132"), hex("1400 0000"),
                                 hex("1401 0003 010203")}) {
    EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(smpp::decode(octets(submit_sm(head + tlv)))));
  }
  EXPECT_EQ(refusal(submit_sm(head + hex("001e 0042") + std::string(65, 'a') + hex("00"))).status,
            smpp::status::invalid_parameter_length);
}

TEST(SmppPduDecode, ErrorResponsesMayHaveNoBody) {
  auto decoded = [](const std::string& bytes) {
    auto result = smpp::decode(octets(bytes));
    EXPECT_TRUE(std::holds_alternative<smpp::Pdu>(result)) << bytes.size();
    return std::holds_alternative<smpp::Pdu>(result) ? std::get<smpp::Pdu>(result) : smpp::Pdu{};
  };
  auto submit_error = decoded(hex("00000010 80000004 00000058 00000003"));
  EXPECT_EQ(submit_error.command_status, smpp::status::throttled);
  EXPECT_EQ(submit_error.body, smpp::Body(smpp::MessageIdResponse{}));
  auto bind_error = decoded(hex("00000010 80000009 0000000d 00000001"));
  EXPECT_EQ(bind_error.body, smpp::Body(smpp::BindResponse{}));
  auto deliver_error = decoded(hex("00000010 80000005 00000064 00000001"));
  EXPECT_EQ(deliver_error.body, smpp::Body(smpp::MessageIdResponse{}));
  EXPECT_TRUE(submit_error.irregularity.empty());
  EXPECT_TRUE(bind_error.irregularity.empty());
  // With status 0 the spec requires the body; without it, the answer is
  // taken (accepted, no id) and the missing body noted.
  auto submit_ok = taken(hex("00000010 80000004 00000000 00000003"));
  EXPECT_EQ(submit_ok.command_status, smpp::status::ok);
  EXPECT_EQ(submit_ok.body, smpp::Body(smpp::MessageIdResponse{}));
  EXPECT_NE(submit_ok.irregularity.find("no body"), std::string::npos);
  auto bind_ok = taken(hex("00000010 80000009 00000000 00000001"));
  EXPECT_EQ(bind_ok.body, smpp::Body(smpp::BindResponse{}));
  // An error response with a body is read like any other.
  auto with_body = decoded(hex("00000011 80000004 00000045 00000003 00"));
  EXPECT_EQ(with_body.body, smpp::Body(smpp::MessageIdResponse{}));
}
