// A resolved reference keeps its parts (marked settled): a receipt that
// comes while the recipient is deferred (the answers were recorded but the
// gateway stopped, or another part's answer was lost) must not make the
// retry submit the parts again. The retry is pending at once instead.
#include "tests/unit/sms/sms_connector_fixture.hpp"

namespace bh::connectors::sms {
namespace {

using namespace connector_test;
using bh::test::eventually;
using namespace std::chrono_literals;

// Every part was recorded by an attempt that was then deferred; the SMSC
// reports them all before the queue retries.
TEST_F(SmsConnectorTest, AReceiptWhileDeferredLeavesNothingToSubmitAgain) {
  std::string tag = delivery_tag("Q0010", kTo);
  start();
  for (int part = 1; part <= 3; ++part)
    ASSERT_TRUE(store->add_part("sms-test", tag, PartRecord{"r" + std::to_string(part), part, 3},
                                1795000000));
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  for (int part = 1; part <= 3; ++part) smsc.send_deliver(receipt("r" + std::to_string(part)));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  EXPECT_EQ(sink.get().front().reference, tag);
  EXPECT_EQ(sink.get().front().result.outcome, Outcome::delivered);
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", tag);
    return parts && parts->size() == 3 && parts->back().settled;
  }));
  auto results = wait(send({kTo}, mail(std::string(400, 'x')), "Q0010"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  EXPECT_EQ(results[0].reference, tag);
  EXPECT_TRUE(smsc.submits().empty());
}

// Part 1 was recorded, part 2's answer was lost (4.4.2), and part 1 failed:
// the reference is resolved (bounced); the retry sends no part.
TEST_F(SmsConnectorTest, AFailedPartWhileDeferredStopsTheRetry) {
  std::string tag = delivery_tag("Q0011", kTo);
  start();
  ASSERT_TRUE(store->add_part("sms-test", tag, PartRecord{"f1", 1, 3}, 1795000000));
  ASSERT_TRUE(eventually([&] { return smsc.binds() == 1; }));
  smsc.send_deliver(receipt("f1", "UNDELIV"));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  EXPECT_EQ(sink.get().front().result.outcome, Outcome::bounced);
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", tag);
    return parts && parts->size() == 1 && parts->front().settled;
  }));
  auto results = wait(send({kTo}, mail(std::string(400, 'x')), "Q0011"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::pending) << results[0].diagnostic;
  EXPECT_EQ(results[0].reference, tag);
  EXPECT_TRUE(smsc.submits().empty());
}

// The store's side: a settled reference is no longer one the sweep settles,
// and the same part recorded again keeps the mark.
TEST_F(SmsConnectorTest, ASettledReferenceIsSkippedByTheSweep) {
  auto opened = SmsStore::open(database);
  ASSERT_TRUE(opened) << opened.error().message;
  SmsStore& s = **opened;
  ASSERT_TRUE(s.add_part("c", "ref", PartRecord{"m1", 1, 1}, 100));
  ASSERT_TRUE(s.add_receipt("c", ReceiptRecord{"m1", ReceiptState::delivered, "", ""}, 101));
  auto before = s.settled_references("c", 10);
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, (std::vector<std::string>{"ref"}));
  ASSERT_TRUE(s.mark_settled("c", "ref"));
  auto after = s.settled_references("c", 10);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  ASSERT_TRUE(s.add_part("c", "ref", PartRecord{"m1", 1, 1}, 102));
  auto parts = s.parts_of("c", "ref");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_TRUE(parts->front().settled);
  // The id given again for another reference names a new, open part.
  ASSERT_TRUE(s.add_part("c", "other", PartRecord{"m1", 1, 1}, 103));
  auto other = s.parts_of("c", "other");
  ASSERT_TRUE(other);
  ASSERT_EQ(other->size(), 1u);
  EXPECT_FALSE(other->front().settled);
  auto purged = s.purge(200, 200);
  ASSERT_TRUE(purged);
  auto gone = s.parts_of("c", "other");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
}

// Part 1 accepted, part 2 refused: the bounce comes while part 1's record
// is still on its way to the store; its row must go all the same.
TEST_F(SmsConnectorTest, ABounceForgetsARecordStillQueued) {
  smsc.script_submits({smpp::status::ok, smpp::status::invalid_dest_address});
  start();
  auto results = wait(send({kTo}, mail(std::string(200, 'x')), "Q0012"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::bounced) << results[0].diagnostic;
  ASSERT_EQ(smsc.submits().size(), 2u);
  std::string tag = delivery_tag("Q0012", kTo);
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", tag);
    return parts && parts->empty() && smsc.message_ids().size() == 1;
  }));
  std::this_thread::sleep_for(200ms);  // a record written after the forget would show now
  auto parts = store->parts_of("sms-test", tag);
  ASSERT_TRUE(parts);
  EXPECT_TRUE(parts->empty());
}

}  // namespace
}  // namespace bh::connectors::sms
