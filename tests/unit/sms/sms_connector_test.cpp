// The SMS connector end to end against the in-process fake SMSC
// (fake_smsc.hpp) and a SQLite SMS store: a 3-part message is pending
// once every part is answered and recorded, a retry submits only what is
// not recorded, throttling is retried, refusals bounce, no bind defers, a
// receipt resolves the recipient through the PendingSink, and the receipt's
// deliver_sm_resp goes out only once the receipt is durable.
#include "tests/unit/sms/sms_connector_fixture.hpp"

#include <algorithm>

#include "connectors/sms/sms_outbound.hpp"
#include "store/pending_store.hpp"

namespace bh::connectors::sms {
namespace {

using namespace connector_test;
using bh::test::eventually;
using namespace std::chrono_literals;

TEST_F(SmsConnectorTest, AThreePartMessageIsPendingOnceEveryPartIsRecorded) {
  start();
  auto results = wait(send({kTo}, mail(std::string(400, 'x'))));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  std::string tag = delivery_tag("Q0001", kTo);
  EXPECT_EQ(results[0].reference, tag);
  ASSERT_EQ(smsc.submits().size(), 3u);
  for (const auto& submit : smsc.submits()) {
    EXPECT_EQ(submit.destination.address, "491701234567");
    EXPECT_EQ(submit.esm_class & 0x40, 0x40);  // UDH
  }
  auto parts = store->parts_of("sms-test", tag);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3u);
  // A retry of the same queue file submits nothing more.
  auto again = wait(send({kTo}, mail(std::string(400, 'x'))));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].outcome, Outcome::pending);
  EXPECT_EQ(again[0].reference, tag);
  EXPECT_EQ(smsc.submits().size(), 3u);
}

TEST_F(SmsConnectorTest, ARetrySubmitsOnlyThePartsNotRecorded) {
  start();
  std::string tag = delivery_tag("Q0002", kTo);
  ASSERT_TRUE(store->add_part("sms-test", tag, PartRecord{"old1", 1, 3}, 1795000000));
  auto results = wait(send({kTo}, mail(std::string(400, 'x')), "Q0002"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  ASSERT_EQ(smsc.submits().size(), 2u);
  // Parts 2 and 3: their UDH's last octet is the part number.
  EXPECT_EQ(smsc.submits()[0].short_message[5], 2);
  EXPECT_EQ(smsc.submits()[1].short_message[5], 3);
}

TEST_F(SmsConnectorTest, AThrottledSubmitIsRetried) {
  smsc.script_submits({smpp::status::throttled});
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  EXPECT_EQ(smsc.submits().size(), 2u);
  EXPECT_EQ(smsc.message_ids(), (std::vector<std::string>{"m1"}));
}

TEST_F(SmsConnectorTest, RefusalsBounceAndBadAddressesNeverReachTheSmsc) {
  smsc.script_submits({smpp::status::invalid_dest_address});
  settings.max_message_bytes = 4096;
  start();
  auto results = wait(send({kTo, "someone@example.com"}, mail("hello")));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, Outcome::bounced);
  EXPECT_EQ(results[0].status, "5.1.1");
  EXPECT_EQ(results[1].outcome, Outcome::bounced);
  EXPECT_EQ(results[1].status, "5.1.3");
  EXPECT_EQ(smsc.submits().size(), 1u);
  auto big = wait(send({kTo}, mail(std::string(5000, 'y')), "Q0003"));
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].outcome, Outcome::bounced);
  EXPECT_EQ(big[0].status, "5.3.4");
  EXPECT_EQ(smsc.submits().size(), 1u);
}

TEST_F(SmsConnectorTest, NoReadyBindWithinSubmitWaitDefers) {
  smsc.set_bind_status(smpp::status::bind_failed);
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(results[0].status, "4.4.1");
  EXPECT_EQ(results[0].diagnostic, "no SMPP bind to 127.0.0.1 was up to take the SMS within 1 s");
  EXPECT_TRUE(smsc.submits().empty());
}

TEST_F(SmsConnectorTest, ASubmitLostWithTheSessionDefers) {
  smsc.hold_submits(true);
  start();
  auto future = send({kTo}, mail("hello"));
  ASSERT_TRUE(eventually([&] { return smsc.submits().size() == 1; }));
  smsc.drop();
  auto results = wait(std::move(future));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(results[0].status, "4.4.2");
}

TEST_F(SmsConnectorTest, StopDefersWhatIsInFlight) {
  smsc.hold_submits(true);
  start();
  auto future = send({kTo}, mail("hello"));
  ASSERT_TRUE(eventually([&] { return smsc.submits().size() == 1; }));
  connector->stop();
  auto results = wait(std::move(future));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(smsc.unbinds(), 1);
  auto after = wait(send({kTo}, mail("hello"), "Q0009"));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].outcome, Outcome::deferred);
}

TEST_F(SmsConnectorTest, ReceiptsOfEveryPartResolveTheReference) {
  start();
  auto results = wait(send({kTo}, mail(std::string(400, 'x'))));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, Outcome::pending);
  auto ids = smsc.message_ids();
  ASSERT_EQ(ids.size(), 3u);
  smsc.send_deliver(receipt(ids[0]));
  smsc.send_deliver(receipt(ids[1]));
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 2; }));
  EXPECT_TRUE(sink.get().empty());  // one part is still out
  smsc.send_deliver(receipt(ids[2]));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  auto call = sink.get().front();
  EXPECT_EQ(call.connector, "sms-test");
  EXPECT_EQ(call.reference, results[0].reference);
  EXPECT_EQ(call.result.outcome, Outcome::delivered);
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 3; }));
  for (const auto& answer : smsc.deliver_answers()) EXPECT_EQ(answer.status, 0u);
  // Resolved: its parts stay, marked settled (a retry must still find them).
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", results[0].reference);
    return parts && parts->size() == 3 &&
           std::all_of(parts->begin(), parts->end(), [](const PartRecord& p) { return p.settled; });
  }));
}

TEST_F(SmsConnectorTest, AFailedReceiptBouncesTheReference) {
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, Outcome::pending);
  smsc.send_deliver(receipt(smsc.message_ids().at(0), "UNDELIV"));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  EXPECT_EQ(sink.get().front().reference, results[0].reference);
  EXPECT_EQ(sink.get().front().result.outcome, Outcome::bounced);
}

// The answer waits for the receipt's commit, not for the pending store:
// a receipt the sink could not record is the sweep's to settle again.
TEST_F(SmsConnectorTest, TheReceiptIsAnsweredOnceItIsDurableNotAfterTheSink) {
  sink.hold = true;
  sink.accept = false;  // not recorded: the parts stay for the sweep
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, Outcome::pending);
  std::string reference = results[0].reference;
  // When the answer arrives, the receipt must already be in the store.
  std::promise<bool> settled_at_answer;
  smsc.on_deliver_answer([&](const FakeSmsc::DeliverAnswer&) {
    auto settled = store->settle("sms-test", reference);
    settled_at_answer.set_value(settled && settled->has_value());
  });
  smsc.send_deliver(receipt(smsc.message_ids().at(0)));
  auto answered = settled_at_answer.get_future();
  ASSERT_EQ(answered.wait_for(5s), std::future_status::ready);  // while the sink holds
  EXPECT_TRUE(answered.get());
  EXPECT_EQ(smsc.deliver_answers().at(0).status, 0u);
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  sink.release();
  smsc.on_deliver_answer(nullptr);
}

TEST_F(SmsConnectorTest, TheSweepResolvesWhatTheSinkCouldNotRecord) {
  sink.accept = false;
  settings.timing.sweep_interval = 500ms;
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, Outcome::pending);
  // The scheduler's pending entry: the sweep finds the number there.
  auto pending = store::PendingStore::open(database);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_TRUE((*pending)->add(store::PendingEntry{"sms-test", results[0].reference, "node1",
                                                  "Q0001", kTo, 1795000000, 1795086400}));
  smsc.send_deliver(receipt(smsc.message_ids().at(0)));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().status, 0u);  // the receipt itself is durable
  EXPECT_EQ(sink.get().front().result.diagnostic, "SMS to +49 170 1234567 was delivered");
  {
    std::lock_guard lock(sink.mutex);
    sink.accept = true;
  }
  // The sweep (every 500 ms here) settles it again, then marks it settled.
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 2; }, 5s));
  EXPECT_EQ(sink.get().back().reference, results[0].reference);
  EXPECT_EQ(sink.get().back().result.outcome, Outcome::delivered);
  EXPECT_EQ(sink.get().back().result.diagnostic, "SMS to +49 170 1234567 was delivered");
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", results[0].reference);
    return parts && parts->size() == 1 && parts->front().settled;
  }));
}

// A sweep that finds no pending entry for a reference knows no number.
TEST(SmsSweepDiagnostic, WithoutANumberNoneIsNamed) {
  Settlement settlement;
  settlement.reference = "Q1.x";
  settlement.delivered = true;
  settlement.parts = 2;
  EXPECT_EQ(receipt_result(settlement, SmsSettings{}, "").diagnostic,
            "SMS was delivered (2 parts)");
}

TEST_F(SmsConnectorTest, WithoutAStoreEverythingWaits) {
  start(false);
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(results[0].status, "4.3.0");
  // The binds still come up; what the SMSC delivers is asked again later.
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  ASSERT_TRUE(eventually([&] {
    smsc.send_deliver(receipt("m9"));
    return eventually([&] { return !smsc.deliver_answers().empty(); }, 500ms);
  }));
  EXPECT_EQ(smsc.deliver_answers().front().status, smpp::status::temporary_app_error);
  EXPECT_TRUE(smsc.submits().empty());
}

TEST_F(SmsConnectorTest, AnIncomingSmsWithoutAnIntakeIsAskedForAgain) {
  start();  // attach_intake without ingest: no SMS -> mail
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  smpp::ShortMessage sms;
  sms.source = {1, 1, "491701234567"};
  sms.destination = {1, 1, "4930123456"};
  sms.short_message = "hello";
  ASSERT_TRUE(eventually([&] {
    smsc.send_deliver(sms);
    return eventually([&] { return !smsc.deliver_answers().empty(); }, 500ms);
  }));
  EXPECT_EQ(smsc.deliver_answers().front().status, smpp::status::temporary_app_error);
}

}  // namespace
}  // namespace bh::connectors::sms
