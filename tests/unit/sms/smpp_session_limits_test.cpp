// The session machine's cases that a transcript would need a thousand
// lines for (smpp_session_test.cpp has the transcripts).
#include <gtest/gtest.h>

#include "tests/unit/sms/smpp_session_transcript.hpp"

using namespace bh::connectors::sms::smpp;
using namespace bh::test::smpp_text;

namespace {

constexpr Clock::time_point kNow = Clock::time_point{} + std::chrono::hours(1);

std::span<const std::uint8_t> octets(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

void feed(SessionMachine& machine, const Pdu& pdu) {
  auto bytes = encode(pdu);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  machine.received(octets(*bytes), kNow);
}

void bind(SessionMachine& machine) {
  machine.connected(kNow);
  Pdu answer;
  answer.command_id = command::bind_transceiver | command::response_bit;
  answer.sequence = 1;
  answer.body = BindResponse{"smsc", {}};
  feed(machine, answer);
  ASSERT_EQ(machine.state(), SessionState::bound);
  machine.take_output();
  machine.take_events();
}

Pdu deliver_sm(std::uint32_t sequence) {
  Pdu pdu;
  pdu.command_id = command::deliver_sm;
  pdu.sequence = sequence;
  ShortMessage message;
  message.source = SmeAddress{1, 1, "491701234567"};
  message.short_message = "hi";
  pdu.body = message;
  return pdu;
}

std::vector<std::string> written(SessionMachine& machine) {
  std::string output = machine.take_output();
  std::vector<std::string> pdus;
  while (!output.empty()) {
    auto length = frame_length(octets(output));
    if (!length || !*length || **length > output.size()) return {"undecodable"};
    auto decoded = decode(octets(output).first(**length));
    pdus.push_back(std::holds_alternative<Pdu>(decoded) ? pdu_text(std::get<Pdu>(decoded))
                                                        : "undecodable");
    output.erase(0, **length);
  }
  return pdus;
}

std::vector<std::string> said(SessionMachine& machine) {
  std::vector<std::string> texts;
  for (const auto& event : machine.take_events()) texts.push_back(event_text(event));
  return texts;
}

}  // namespace

TEST(SmppSessionDelivers, AtMostMaxPendingUnanswered) {
  SessionMachine machine(SessionSettings{});
  bind(machine);
  for (std::uint32_t sequence = 1; sequence <= kMaxPendingDelivers; ++sequence)
    feed(machine, deliver_sm(sequence));
  EXPECT_TRUE(written(machine).empty());
  EXPECT_EQ(said(machine).size(), kMaxPendingDelivers);
  // One more is refused for now; the SMSC sends it again later.
  feed(machine, deliver_sm(5000));
  EXPECT_EQ(written(machine),
            std::vector<std::string>{"deliver_sm_resp seq=5000 status=ESME_RX_T_APPN"});
  EXPECT_EQ(said(machine), std::vector<std::string>{fmt::format(
                               "ProtocolProblem \"deliver_sm seq=5000: {} unanswered already\"",
                               kMaxPendingDelivers)});
  // An answer makes room.
  machine.answer_deliver(1, status::ok, kNow);
  EXPECT_EQ(written(machine), std::vector<std::string>{"deliver_sm_resp seq=1 status=0"});
  feed(machine, deliver_sm(5000));
  EXPECT_TRUE(written(machine).empty());
  ASSERT_EQ(said(machine).size(), 1u);
}

TEST(SmppSessionDelivers, ARepeatedSequenceIsAnsweredOncePerDeliverSm) {
  SessionMachine machine(SessionSettings{});
  bind(machine);
  feed(machine, deliver_sm(7));
  feed(machine, deliver_sm(7));
  EXPECT_EQ(said(machine).size(), 2u);
  machine.answer_deliver(7, status::ok, kNow);
  machine.answer_deliver(7, status::ok, kNow);
  machine.answer_deliver(7, status::ok, kNow);
  EXPECT_EQ(written(machine), (std::vector<std::string>{"deliver_sm_resp seq=7 status=0",
                                                        "deliver_sm_resp seq=7 status=0"}));
}

TEST(SmppSessionSubmit, AMessageTheCodecRefusesIsAnsweredAtOnce) {
  SessionSettings settings;
  settings.window = 1;
  SessionMachine machine(settings);
  bind(machine);
  ShortMessage message;
  message.short_message.assign(255, 'x');  // sm_length is at most 254
  std::uint32_t sequence = machine.submit(message, 11, kNow);
  EXPECT_EQ(sequence, 2u);
  EXPECT_TRUE(written(machine).empty());
  auto events = said(machine);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].starts_with("ProtocolProblem \"submit_sm seq=2 not sent: ")) << events[0];
  EXPECT_EQ(events[1], "SubmitAnswered token=11 status=ESME_RSYSERR");
  // Nothing is outstanding: the window of 1 is free for the next.
  EXPECT_EQ(machine.outstanding(), 0u);
  EXPECT_TRUE(machine.can_submit());
  message.short_message = "fits";
  EXPECT_EQ(machine.submit(message, 12, kNow), 3u);
  EXPECT_EQ(written(machine).size(), 1u);
  EXPECT_EQ(machine.outstanding(), 1u);
}
