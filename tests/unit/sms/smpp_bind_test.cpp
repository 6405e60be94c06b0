// The bind driver against the in-process fake SMSC (fake_smsc.hpp): bind
// accepted or refused, a submit and its answer, a deliver_sm answered
// when the handler says so (and not in another session), the reconnect
// after the SMSC closes, submits lost with the session, the throttle
// backoff, and a graceful stop.
#include "connectors/sms/smpp_bind.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sms/smpp_bind_fixture.hpp"

namespace bh::connectors::sms {
namespace {

using namespace test;

TEST_F(SmppBindTest, BindsAndSubmits) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  EXPECT_EQ(smsc.last_system_id(), "bridgehead");
  EXPECT_TRUE(ready());
  EXPECT_EQ(on_io([&] { return bind->name(); }),
            "sms-test/1 127.0.0.1:" + std::to_string(smsc.port()));
  EXPECT_NE(submit(77), 0u);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::answers).size() == 1; }));
  auto answer = recorder.get(&Recorder::answers).front();
  EXPECT_EQ(answer.token, 77u);
  EXPECT_EQ(answer.status, 0u);
  EXPECT_EQ(answer.message_id, "m1");
  ASSERT_EQ(smsc.submits().size(), 1u);
  EXPECT_EQ(smsc.submits().front().short_message, "hello");
}

TEST_F(SmppBindTest, ARefusedBindIsRetriedAtReconnectMax) {
  smsc.set_bind_status(smpp::status::invalid_password);
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() >= 3; }));
  auto times = smsc.bind_times();
  // Not the doubling from 50 ms: every retry waits reconnect_max (400 ms).
  EXPECT_GE(times[1] - times[0], 350ms);
  EXPECT_GE(times[2] - times[1], 350ms);
  EXPECT_EQ(recorder.get(&Recorder::bound_count), 0);
  EXPECT_FALSE(ready());
}

TEST_F(SmppBindTest, ReconnectsAfterTheSmscCloses) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  smsc.drop();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::unbound_count) == 1; }));
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 2; }));
  EXPECT_EQ(smsc.connections(), 2);
  EXPECT_EQ(recorder.get(&Recorder::log), (std::vector<std::string>{"bound", "unbound", "bound"}));
  EXPECT_TRUE(ready());
}

TEST_F(SmppBindTest, SubmitsInFlightAreLostBeforeUnbound) {
  smsc.hold_submits(true);
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  submit(5);
  submit(6);
  ASSERT_TRUE(eventually([&] { return smsc.submits().size() == 2; }));
  smsc.drop();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::unbound_count) == 1; }));
  auto lost = recorder.get(&Recorder::lost_tokens);
  std::sort(lost.begin(), lost.end());
  EXPECT_EQ(lost, (std::vector<std::uint64_t>{5, 6}));
  auto log = recorder.get(&Recorder::log);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[3], "unbound");
}

TEST_F(SmppBindTest, ADeliverSmIsAnsweredWhenTheHandlerSays) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  smpp::ShortMessage message;
  message.source = {1, 1, "491701234567"};
  message.short_message = "hi";
  std::uint32_t sequence = smsc.send_deliver(message);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::deliveries).size() == 1; }));
  EXPECT_EQ(recorder.get(&Recorder::deliveries).front().message.short_message, "hi");
  // Nothing is answered before the handler decides.
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(smsc.deliver_answers().empty());
  std::uint64_t session = recorder.get(&Recorder::sessions).front();
  on_io([&] { bind->answer_deliver(recorder.deliveries.front().sequence, 0x64, session); });
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().sequence, sequence);
  EXPECT_EQ(smsc.deliver_answers().front().status, 0x64u);
}

TEST_F(SmppBindTest, AnAnswerForAnEarlierSessionIsDropped) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  smpp::ShortMessage message;
  message.short_message = "hi";
  smsc.send_deliver(message);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::deliveries).size() == 1; }));
  std::uint64_t old_session = recorder.get(&Recorder::sessions).front();
  smsc.drop();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 2; }));
  std::uint64_t new_session = on_io([&] { return bind->session(); });
  EXPECT_NE(new_session, old_session);
  // The new session has a deliver_sm with the same sequence number: the
  // old session's answer must not acknowledge it.
  std::uint32_t sequence = recorder.get(&Recorder::deliveries).front().sequence;
  smsc.send_deliver(message, sequence);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::deliveries).size() == 2; }));
  ASSERT_EQ(recorder.get(&Recorder::deliveries).back().sequence, sequence);
  on_io([&] { bind->answer_deliver(sequence, 0, old_session); });
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(smsc.deliver_answers().empty());
  // Its own session's answer goes out.
  on_io([&] { bind->answer_deliver(sequence, 0, new_session); });
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().sequence, sequence);
}

TEST_F(SmppBindTest, ThrottlingPausesWithADoublingBackoff) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  // How long throttled() pauses the bind, measured on the io thread.
  auto pause = [&] {
    return on_io([&] {
      auto now = smpp::Clock::now();
      bind->throttled();
      return std::chrono::duration_cast<std::chrono::milliseconds>(bind->throttled_until() - now);
    });
  };
  auto first = pause();
  EXPECT_FALSE(ready());
  EXPECT_GE(first, 100ms);
  EXPECT_LT(first, 150ms);
  ASSERT_TRUE(eventually([&] { return ready(); }, 2s));
  auto second = pause();
  EXPECT_GE(second, 200ms);  // doubled
  EXPECT_LT(second, 250ms);
  auto third = pause();
  EXPECT_GE(third, 300ms);  // capped at throttle_backoff_max
  EXPECT_LT(third, 350ms);
  // A status 0 resets the backoff to throttle_backoff.
  ASSERT_TRUE(eventually([&] { return ready(); }, 2s));
  submit(1);
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::answers).size() == 1; }));
  auto after_ok = pause();
  EXPECT_GE(after_ok, 100ms);
  EXPECT_LT(after_ok, 150ms);
}

TEST_F(SmppBindTest, StopUnbindsAndDoesNotReconnect) {
  start();
  ASSERT_TRUE(eventually([&] { return recorder.get(&Recorder::bound_count) == 1; }));
  std::promise<void> stopped;
  on_io([&] { bind->stop([&] { stopped.set_value(); }); });
  ASSERT_EQ(stopped.get_future().wait_for(3s), std::future_status::ready);
  EXPECT_EQ(smsc.unbinds(), 1);
  std::this_thread::sleep_for(200ms);  // more than reconnect_min
  EXPECT_EQ(smsc.binds(), 1);
  EXPECT_FALSE(ready());
}

TEST_F(SmppBindTest, StopWhileTheSmscIsAwayEndsAtOnce) {
  smsc.set_bind_status(smpp::status::bind_failed);
  start();
  ASSERT_TRUE(eventually([&] { return smsc.binds() >= 1; }));
  std::promise<void> stopped;
  on_io([&] { bind->stop([&] { stopped.set_value(); }); });
  EXPECT_EQ(stopped.get_future().wait_for(1s), std::future_status::ready);
}

}  // namespace
}  // namespace bh::connectors::sms
