// A submit_sm_resp after response_timeout: the recipient was deferred
// (4.4.2), but the SMSC has the SMS; the late answer records the part, so
// the retry does not send it again. A bind whose submits time out three
// times in a row (a black hole) is closed and bound again. A job of the
// store thread that throws fails alone.
#include "tests/unit/sms/sms_connector_fixture.hpp"

namespace bh::connectors::sms {
namespace {

using namespace connector_test;
using bh::test::eventually;
using namespace std::chrono_literals;

TEST_F(SmsConnectorTest, ALateSubmitAnswerIsRecordedSoTheRetrySendsNothing) {
  settings.timing.response_timeout = 1s;
  smsc.hold_submits(true);
  start();
  auto results = wait(send({kTo}, mail("hello"), "Q0020"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(results[0].status, "4.4.2");
  ASSERT_EQ(smsc.submits().size(), 1u);
  smsc.hold_submits(false);
  smsc.answer_held();
  std::string tag = delivery_tag("Q0020", kTo);
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", tag);
    return parts && parts->size() == 1;
  }));
  EXPECT_EQ(store->parts_of("sms-test", tag)->front().message_id, "m1");
  auto again = wait(send({kTo}, mail("hello"), "Q0020"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].outcome, Outcome::pending) << again[0].diagnostic;
  EXPECT_EQ(again[0].reference, tag);
  EXPECT_EQ(smsc.submits().size(), 1u);
  EXPECT_EQ(smsc.binds(), 1);  // one timeout is no reason to rebind
}

TEST_F(SmsConnectorTest, ABindWhoseSubmitsAllTimeOutIsBoundAgain) {
  settings.timing.response_timeout = 1s;
  smsc.hold_submits(true);
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  auto results = wait(send({"+491701234561@sms.example.com", "+491701234562@sms.example.com",
                            "+491701234563@sms.example.com"},
                           mail("hello"), "Q0021"));
  ASSERT_EQ(results.size(), 3u);
  for (const auto& result : results) EXPECT_EQ(result.status, "4.4.2") << result.diagnostic;
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 2; }));
  EXPECT_EQ(smsc.connections(), 2);
}

// 4.4.1 names its cause: every bind busy (here: a window of 1, held).
TEST_F(SmsConnectorTest, ABusyWindowIsNotReportedAsNoBind) {
  settings.window = 1;
  smsc.hold_submits(true);
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  auto results =
      wait(send({"+491701234561@sms.example.com", "+491701234562@sms.example.com"}, mail("hello")));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, "4.4.2") << results[0].diagnostic;
  EXPECT_EQ(results[1].status, "4.4.1");
  EXPECT_EQ(results[1].diagnostic,
            "every SMPP bind to 127.0.0.1 was busy (window full or throttled) for 1 s");
  EXPECT_EQ(smsc.submits().size(), 1u);
}

// Two binds, one of them down (nothing listens on port 1): the other
// carries every part.
TEST_F(SmsConnectorTest, ABindDownLeavesTheOtherToCarryEverything) {
  BindSettings down = settings.binds.front();
  down.port = 1;
  settings.binds.push_back(down);
  start();
  auto results = wait(send({"+491701234561@sms.example.com", "+491701234562@sms.example.com",
                            "+491701234563@sms.example.com"},
                           mail("hello"), "Q0060"));
  ASSERT_EQ(results.size(), 3u);
  for (const auto& result : results) EXPECT_EQ(result.outcome, Outcome::pending);
  EXPECT_EQ(smsc.submits().size(), 3u);
  EXPECT_EQ(smsc.connections(), 1);
}

// A job of the store thread that throws is answered (4.3.0) and fails
// alone: the receipt queued with it is still answered, the thread goes on.
TEST_F(SmsConnectorTest, AJobThatThrowsIsDeferredAndTheThreadGoesOn) {
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  directory.fail = true;
  auto failing = send({kTo}, mail("hello"), "Q0030");
  smsc.send_deliver(receipt("nobody"));
  auto results = wait(std::move(failing));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::deferred);
  EXPECT_EQ(results[0].status, "4.3.0");
  EXPECT_EQ(results[0].diagnostic, "the SMS connector failed: directory broke");
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().status, 0u);
  directory.fail = false;
  auto after = wait(send({kTo}, mail("hello"), "Q0031"));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].outcome, Outcome::pending) << after[0].diagnostic;
}

}  // namespace
}  // namespace bh::connectors::sms
