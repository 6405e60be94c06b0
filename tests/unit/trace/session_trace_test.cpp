// The SMTP session's trace events: refusals under the transaction's id (or
// an id of their own outside one), with the reply sent; the accepted
// message with its client and envelope.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "smtp/server/session_machine.hpp"
#include "trace/event.hpp"
#include "util/gateway_metrics.hpp"

namespace {

using bh::trace::Kind;
using bh::trace::TraceEvent;

struct CollectingSink : bh::trace::Sink {
  void record(TraceEvent event) override { events.push_back(std::move(event)); }
  std::vector<TraceEvent> events;
  std::vector<TraceEvent> of(Kind kind) const {
    std::vector<TraceEvent> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
};

std::string fact(const TraceEvent& e, const std::string& key) {
  for (const auto& [k, v] : e.facts)
    if (k == key) return v;
  return "<none>";
}

class SessionTraceTest : public ::testing::Test {
 protected:
  SessionTraceTest() {
    settings.intake = &pipeline;
    settings.make_queue_id = [this] { return fmt::format("QID{}", ++next_id); };
    settings.now = [] { return std::int64_t{1795000000}; };
    settings.trace = &sink;
  }
  // Feeds the client's lines, runs the machine, commits what it wants committed.
  std::string send(bh::smtp::SessionMachine& machine, const std::string& bytes) {
    auto space = machine.input_space(bytes.size());
    std::copy(bytes.begin(), bytes.end(), space.begin());
    machine.input_received(bytes.size());
    std::string replies;
    while (true) {
      auto event = machine.step();
      replies += machine.output();
      machine.output().clear();
      if (event == bh::smtp::SessionMachine::Event::commit) {
        machine.commit_finished(bh::ok_status());
        continue;
      }
      if (event == bh::smtp::SessionMachine::Event::spill) {
        machine.spilled();
        continue;
      }
      return replies;
    }
  }

  bh::intake::Pipeline pipeline{std::make_shared<const bh::PolicySet>(
      std::vector<bh::Route>{bh::Route{{"example.test"}, "local"}}, bh::TrustConfig{}, nullptr)};
  bh::smtp::SessionSettings settings;
  CollectingSink sink;
  int next_id = 0;
};

TEST_F(SessionTraceTest, RefusalOutsideATransactionGetsAnIdOfItsOwn) {
  bh::smtp::SessionMachine machine(settings, bh::ClientInfo{"192.0.2.1", 4000});
  machine.greet();
  send(machine, "MAIL FROM:<a@example.org>\r\n");
  auto refused = sink.of(Kind::refused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].message_id, "QID1");
  EXPECT_EQ(refused[0].stage, "mail");
  EXPECT_EQ(refused[0].code, 503);
  EXPECT_EQ(refused[0].enhanced, "5.5.1");
  EXPECT_EQ(refused[0].detail, "Error: send HELO/EHLO first");
  EXPECT_EQ(fact(refused[0], "client_ip"), "192.0.2.1");
  // The next refusal is another attempt, with another id.
  send(machine, "RCPT TO:<b@example.test>\r\n");
  ASSERT_EQ(sink.of(Kind::refused).size(), 2u);
  EXPECT_EQ(sink.of(Kind::refused)[1].message_id, "QID2");
}

TEST_F(SessionTraceTest, RefusedRecipientAndAcceptedMessageShareTheTransactionId) {
  auto& refusals = bh::metrics::gateway_metrics().refusals;
  std::uint64_t route_refusals_before = refusals.with({"route", "5.7.1"}).value();
  bh::smtp::SessionMachine machine(settings, bh::ClientInfo{"192.0.2.1", 4000});
  machine.greet();
  send(machine, "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n");
  std::string replies = send(machine, "RCPT TO:<nobody@elsewhere.test>\r\n");
  EXPECT_NE(replies.find("550 5.7.1"), std::string::npos) << replies;
  EXPECT_EQ(refusals.with({"route", "5.7.1"}).value(), route_refusals_before + 1);
  send(machine, "RCPT TO:<bob@example.test>\r\nDATA\r\n");
  replies = send(machine, "Subject: Hello\r\nMessage-ID: <m1@example.org>\r\n\r\nHi\r\n.\r\n");
  EXPECT_NE(replies.find("250 2.0.0 Ok: queued as QID1"), std::string::npos) << replies;

  auto refused = sink.of(Kind::refused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].message_id, "QID1");
  EXPECT_EQ(refused[0].stage, "route");
  EXPECT_EQ(refused[0].recipient, "nobody@elsewhere.test");
  EXPECT_EQ(refused[0].sender, "alice@example.org");
  EXPECT_EQ(refused[0].code, 550);
  auto decisions = sink.of(Kind::decision);
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.front().stage, "identity");  // the connection's, traced with the message
  EXPECT_EQ(decisions.front().message_id, "QID1");
  auto received = sink.of(Kind::received);
  ASSERT_EQ(received.size(), 1u);
  const TraceEvent& r = received[0];
  EXPECT_EQ(r.message_id, "QID1");
  EXPECT_EQ(r.sender, "alice@example.org");
  EXPECT_EQ(r.recipients, std::vector<std::string>{"bob@example.test"});
  EXPECT_EQ(r.subject, "Hello");
  EXPECT_EQ(fact(r, "message_id"), "<m1@example.org>");
  EXPECT_EQ(fact(r, "helo"), "client.example");
  EXPECT_EQ(fact(r, "tls"), "none");
  EXPECT_EQ(fact(r, "client_ip"), "192.0.2.1");
  EXPECT_EQ(r.code, 250);
}

// Without a sink nothing is traced and no extra ids are taken (the golden
// transcripts' queue ids stay as they are).
TEST_F(SessionTraceTest, WithoutASinkNoIdsAreTaken) {
  settings.trace = nullptr;
  bh::smtp::SessionMachine machine(settings, bh::ClientInfo{"192.0.2.1", 4000});
  machine.greet();
  send(machine, "MAIL FROM:<a@example.org>\r\nEHLO c\r\nMAIL FROM:<a@example.org>\r\n");
  EXPECT_EQ(next_id, 1);
  EXPECT_TRUE(sink.events.empty());
}

}  // namespace
