// The SMS connector when no receipt can settle a recipient: receipts not
// requested, or a part the SMSC accepted without a message id. Such a
// recipient is delivered ("relayed") at its last submit_sm_resp; its
// recorded parts stay until its result is durable (results_recorded), so
// that a retry before then still skips them. Also: the parts of several
// recipients are in flight at once (the window is shared, not per mail).
#include "tests/unit/sms/sms_connector_fixture.hpp"

namespace bh::connectors::sms {
namespace {

using namespace connector_test;
using bh::test::eventually;
using namespace std::chrono_literals;

// What the scheduler hands results_recorded for the test's queue file.
Envelope envelope_of(const std::string& queue_id, const std::vector<std::string>& to) {
  Envelope envelope;
  envelope.queue_id = queue_id;
  for (const std::string& address : to) {
    std::size_t at = address.find('@');
    envelope.recipients.push_back({Address{address.substr(0, at), address.substr(at + 1)}});
  }
  return envelope;
}

TEST_F(SmsConnectorTest, WithoutReceiptsTheRecipientIsDeliveredAtTheAnswer) {
  settings.request_receipts = false;
  start();
  auto results = wait(send({kTo}, mail(std::string(400, 'x'))));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].diagnostic;
  EXPECT_EQ(results[0].status, "2.0.0");
  EXPECT_EQ(results[0].success_action, "relayed");
  EXPECT_EQ(results[0].diagnostic,
            "SMSC accepted the SMS (message id m1, m2, m3); no delivery receipt was requested");
  EXPECT_TRUE(results[0].reference.empty());
  ASSERT_EQ(smsc.submits().size(), 3u);
  for (const auto& submit : smsc.submits()) EXPECT_EQ(submit.registered_delivery, 0);
  // The parts are kept until the result is durable, then forgotten.
  std::string tag = delivery_tag("Q0001", kTo);
  auto parts = store->parts_of("sms-test", tag);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->size(), 3u);
  connector->results_recorded(envelope_of("Q0001", {kTo}), {0});
  ASSERT_TRUE(eventually([&] {
    auto left = store->parts_of("sms-test", tag);
    return left && left->empty();
  }));
  EXPECT_TRUE(sink.get().empty());
}

TEST_F(SmsConnectorTest, ARetryWithoutReceiptsSkipsWhatWasSubmittedBefore) {
  settings.request_receipts = false;
  start();
  std::string tag = delivery_tag("Q0002", kTo);
  for (int part = 1; part <= 3; ++part)
    ASSERT_TRUE(store->add_part("sms-test", tag, PartRecord{"old" + std::to_string(part), part, 3},
                                1795000000));
  auto results = wait(send({kTo}, mail(std::string(400, 'x')), "Q0002"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].diagnostic;
  EXPECT_EQ(results[0].diagnostic,
            "all 3 part(s) were submitted to the SMSC before; no delivery receipt was requested");
  EXPECT_TRUE(smsc.submits().empty());
}

TEST_F(SmsConnectorTest, APartWithoutAMessageIdIsDeliveredUntracked) {
  smsc.script_message_ids({"", "m7"});
  start();
  auto results = wait(send({kTo}, mail(std::string(200, 'x'))));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].diagnostic;
  EXPECT_EQ(results[0].success_action, "relayed");
  EXPECT_EQ(results[0].diagnostic,
            "SMSC accepted the SMS (message id m7); it gave no message id for part 1, so no "
            "delivery receipt can be matched");
  ASSERT_EQ(smsc.submits().size(), 2u);
  // Both parts are recorded (a retry skips them) until the result is
  // durable; the one without an id under a synthetic id.
  std::string tag = delivery_tag("Q0001", kTo);
  auto parts = store->parts_of("sms-test", tag);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(parts->at(0).message_id, "noid:" + tag + ":1");
  EXPECT_EQ(parts->at(1).message_id, "m7");
  // Its receipt settles nothing: the recipient is not waiting.
  smsc.send_deliver(receipt("m7"));
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().status, 0u);
  connector->results_recorded(envelope_of("Q0001", {kTo}), {0});
  ASSERT_TRUE(eventually([&] {
    auto left = store->parts_of("sms-test", tag);
    return left && left->empty();
  }));
  EXPECT_TRUE(sink.get().empty());
}

TEST_F(SmsConnectorTest, ASingleSmsWithoutAMessageIdIsDeliveredUntracked) {
  smsc.script_message_ids({""});
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].diagnostic;
  EXPECT_EQ(results[0].diagnostic,
            "SMSC accepted the SMS without a message id; no delivery receipt can be matched");
  std::string tag = delivery_tag("Q0001", kTo);
  auto parts = store->parts_of("sms-test", tag);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ(parts->front().message_id, "noid:" + tag + ":1");
}

// Part 1 was accepted without an id by an attempt deferred for part 2: the
// retry sends part 2 only, and no receipt can settle part 1: delivered.
TEST_F(SmsConnectorTest, ARetrySkipsAPartAcceptedWithoutAnId) {
  std::string tag = delivery_tag("Q0040", kTo);
  start();
  ASSERT_TRUE(store->add_part("sms-test", tag, PartRecord{"noid:" + tag + ":1", 1, 2}, 1795000000));
  auto results = wait(send({kTo}, mail(std::string(200, 'x')), "Q0040"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].diagnostic;
  EXPECT_EQ(results[0].diagnostic,
            "SMSC accepted the SMS (message id m1); it gave no message id for part 1, so no "
            "delivery receipt can be matched");
  ASSERT_EQ(smsc.submits().size(), 1u);
  EXPECT_EQ(smsc.submits()[0].short_message[5], 2);  // UDH: part 2
}

TEST_F(SmsConnectorTest, SeveralRecipientsPartsAreInFlightAtOnce) {
  smsc.hold_submits(true);  // no answer: whatever is submitted stays outstanding
  settings.window = 10;
  start();
  std::vector<std::string> to;
  for (int i = 0; i < 5; ++i)
    to.push_back("+4917012345" + std::to_string(60 + i) + "@sms.example.com");
  auto future = send(to, mail("hello"));
  ASSERT_TRUE(eventually([&] { return smsc.submits().size() == 5; }));
  connector->stop();
  auto results = wait(std::move(future));
  ASSERT_EQ(results.size(), 5u);
  for (const auto& result : results) EXPECT_EQ(result.outcome, Outcome::deferred);
}

}  // namespace
}  // namespace bh::connectors::sms
