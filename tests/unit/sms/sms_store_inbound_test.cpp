// The incoming half of the SMS store: parts of concatenated SMS in any
// order and at any node, a reused reference, the sweep's expired and
// stranded messages, and the keys of SMS taken.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "connectors/sms/sms_store.hpp"
#include "tests/unit/sms/sms_store_fixture.hpp"

namespace {

using bh::connectors::sms::InboundAdd;
using bh::connectors::sms::InboundMessage;
using bh::connectors::sms::InboundPart;
using bh::store::Backend;

using SmsInboundStoreTest = bh::test::SmsStoreFixture;

TEST_P(SmsInboundStoreTest, SeenKeysAreKeptOncePerConnector) {
  EXPECT_FALSE(store->inbound_seen("sms", "k1", 0).value());
  ASSERT_TRUE(store->mark_inbound_seen("sms", "k1", 1000));
  ASSERT_TRUE(store->mark_inbound_seen("sms", "k1", 5000));  // the first time counts
  EXPECT_TRUE(store->inbound_seen("sms", "k1", 1000).value());
  EXPECT_FALSE(store->inbound_seen("sms", "k1", 1001).value());
  EXPECT_FALSE(store->inbound_seen("other", "k1", 0).value());
}

InboundPart inbound(int sequence, int total = 3, std::int64_t at = 1000, int reference = 42) {
  return {"+491701234567",
          "+4930111",
          reference,
          total,
          sequence,
          "part " + std::to_string(sequence) + " äö",
          at,
          true,
          "key-" + std::to_string(reference) + "-" + std::to_string(sequence)};
}

TEST_P(SmsInboundStoreTest, InboundReassemblyInAnyOrder) {
  auto added = store->add_inbound_part("sms", inbound(3, 3, 1003));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->outcome, InboundAdd::kept);
  EXPECT_EQ(store->add_inbound_part("sms", inbound(1, 3, 1001)).value().outcome, InboundAdd::kept);
  // Another message (other reference) does not mix in.
  EXPECT_EQ(store->add_inbound_part("sms", inbound(2, 3, 1002, 43)).value().outcome,
            InboundAdd::kept);
  added = store->add_inbound_part("sms", inbound(2, 3, 1002));
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(added->outcome, InboundAdd::complete);
  const InboundMessage& message = added->message;
  EXPECT_EQ(message.source, "+491701234567");
  EXPECT_EQ(message.destination, "+4930111");
  EXPECT_EQ(message.reference, 42);
  EXPECT_EQ(message.total, 3);
  EXPECT_EQ(message.first_received_at, 1001);
  EXPECT_TRUE(message.sender_is_number);
  ASSERT_EQ(message.parts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(message.parts[i].sequence, i + 1);
    EXPECT_EQ(message.parts[i].text, "part " + std::to_string(i + 1) + " äö");
    EXPECT_EQ(message.parts[i].received_at, 1001 + i);
    EXPECT_EQ(message.parts[i].seen_key, "key-42-" + std::to_string(i + 1));
  }
  ASSERT_TRUE(store->remove_inbound("sms", message, 2000));
  // Removed: the same key starts afresh, and the parts' keys are seen.
  EXPECT_EQ(store->add_inbound_part("sms", inbound(1, 3, 2000)).value().outcome, InboundAdd::kept);
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(store->inbound_seen("sms", "key-42-" + std::to_string(i), 2000).value()) << i;
  EXPECT_FALSE(store->inbound_seen("sms", "key-43-2", 0).value());
}

// A sender that is no number keeps saying so, also when it looks like one.
TEST_P(SmsInboundStoreTest, InboundPartsKeepWhetherTheSenderIsANumber) {
  InboundPart alphanumeric = inbound(1, 2, 1000, 5);
  alphanumeric.source = "+4917012345";
  alphanumeric.sender_is_number = false;
  ASSERT_EQ(store->add_inbound_part("sms", alphanumeric).value().outcome, InboundAdd::kept);
  InboundPart second = alphanumeric;
  second.sequence = 2;
  auto complete = store->add_inbound_part("sms", second);
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_EQ(complete->outcome, InboundAdd::complete);
  EXPECT_FALSE(complete->message.sender_is_number);
  EXPECT_FALSE(complete->message.parts[0].sender_is_number);
  auto expired = store->expired_inbound("sms", 2000);
  ASSERT_TRUE(expired) << expired.error().message;
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_FALSE(expired->front().sender_is_number);
}

TEST_P(SmsInboundStoreTest, InboundDuplicatesAreIgnoredAndAnotherTextDisplaces) {
  ASSERT_EQ(store->add_inbound_part("sms", inbound(1, 2)).value().outcome, InboundAdd::kept);
  // The same part again (the SMSC sent it again): nothing changes.
  EXPECT_EQ(store->add_inbound_part("sms", inbound(1, 2, 1500)).value().outcome, InboundAdd::kept);
  // The same place with another text: a new message reusing the reference.
  InboundPart other = inbound(1, 2, 1600);
  other.text = "a new message";
  auto displaced = store->add_inbound_part("sms", other);
  ASSERT_TRUE(displaced) << displaced.error().message;
  ASSERT_EQ(displaced->outcome, InboundAdd::displaced);
  ASSERT_EQ(displaced->message.parts.size(), 1u);
  EXPECT_EQ(displaced->message.parts[0].text, "part 1 äö");
  EXPECT_EQ(displaced->message.first_received_at, 1000);
  // Not kept: the old message is still there until the caller removes it.
  EXPECT_EQ(store->add_inbound_part("sms", other).value().outcome, InboundAdd::displaced);
  ASSERT_TRUE(store->remove_inbound("sms", displaced->message, 1700));
  EXPECT_EQ(store->add_inbound_part("sms", other).value().outcome, InboundAdd::kept);
  auto complete = store->add_inbound_part("sms", inbound(2, 2, 1800));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_EQ(complete->outcome, InboundAdd::complete);
  ASSERT_EQ(complete->message.parts.size(), 2u);
  EXPECT_EQ(complete->message.parts[0].text, "a new message");
  EXPECT_EQ(complete->message.first_received_at, 1600);
  // Sent again before the mail was queued and the parts removed: complete
  // again (the caller retries what it could not queue).
  complete = store->add_inbound_part("sms", inbound(2, 2, 1900));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_EQ(complete->outcome, InboundAdd::complete);
  EXPECT_EQ(complete->message.parts.size(), 2u);
}

TEST_P(SmsInboundStoreTest, InboundPartOutsideItsTotalIsRefused) {
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(4, 3)));
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(0, 3)));
}

TEST_P(SmsInboundStoreTest, InboundSinglePartIsCompleteAtOnce) {
  auto complete = store->add_inbound_part("sms", inbound(1, 1));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_EQ(complete->outcome, InboundAdd::complete);
  EXPECT_EQ(complete->message.parts.size(), 1u);
}

TEST_P(SmsInboundStoreTest, InboundExpiry) {
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(3, 3, 100)));
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(1, 3, 900)));
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(1, 2, 800, 7)));  // newer message
  ASSERT_TRUE(store->add_inbound_part("other", inbound(1, 3, 100)));   // other connector
  auto expired = store->expired_inbound("sms", 500);
  ASSERT_TRUE(expired) << expired.error().message;
  ASSERT_EQ(expired->size(), 1u);
  const InboundMessage& message = expired->front();
  EXPECT_EQ(message.reference, 42);
  EXPECT_EQ(message.total, 3);
  EXPECT_EQ(message.first_received_at, 100);
  ASSERT_EQ(message.parts.size(), 2u);
  EXPECT_EQ(message.parts[0].sequence, 1);
  EXPECT_EQ(message.parts[1].sequence, 3);
  EXPECT_EQ(message.parts[1].text, "part 3 äö");

  EXPECT_EQ(store->expired_inbound("sms", 1000).value().size(), 2u);
  ASSERT_TRUE(store->remove_inbound("sms", message, 1000));
  EXPECT_TRUE(store->expired_inbound("sms", 500).value().empty());
  EXPECT_EQ(store->expired_inbound("other", 500).value().size(), 1u);
}

// A message whose last part came but whose mail could not be queued: the
// sweep finds it too, once its last part is as old (until then the node
// that received the last part may still be queueing it).
TEST_P(SmsInboundStoreTest, ACompleteMessageLeftInTheStoreExpires) {
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(1, 2, 100, 9)));
  ASSERT_EQ(store->add_inbound_part("sms", inbound(2, 2, 700, 9)).value().outcome,
            InboundAdd::complete);
  EXPECT_TRUE(store->expired_inbound("sms", 500).value().empty());
  auto expired = store->expired_inbound("sms", 701);
  ASSERT_TRUE(expired) << expired.error().message;
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ(expired->front().parts.size(), 2u);
}

// Removing a message takes the parts that were mailed, not one another
// node kept since they were read.
TEST_P(SmsInboundStoreTest, RemoveTakesOnlyThePartsThatWereMailed) {
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(1, 3, 100)));
  auto expired = store->expired_inbound("sms", 500);
  ASSERT_TRUE(expired) << expired.error().message;
  ASSERT_EQ(expired->size(), 1u);
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(2, 3, 600)));  // meanwhile
  ASSERT_TRUE(store->remove_inbound("sms", expired->front(), 700));
  auto left = store->expired_inbound("sms", 10000);
  ASSERT_TRUE(left) << left.error().message;
  ASSERT_EQ(left->size(), 1u);
  ASSERT_EQ(left->front().parts.size(), 1u);
  EXPECT_EQ(left->front().parts[0].sequence, 2);
  EXPECT_TRUE(store->inbound_seen("sms", "key-42-1", 0).value());
  EXPECT_FALSE(store->inbound_seen("sms", "key-42-2", 0).value());
}

// The last two parts of a message reach two nodes at once: exactly one of
// them sees the message complete (neither may leave it to the timeout).
TEST_P(SmsInboundStoreTest, InboundPartsAtTwoNodesAtOnceCompleteOnce) {
  auto other = open();
  ASSERT_TRUE(other);
  for (int reference = 0; reference < 40; ++reference) {
    bool first = false, second = false;
    bool first_ok = false, second_ok = false;
    std::size_t parts = 0;
    std::thread a([&] {
      auto added = store->add_inbound_part("sms", inbound(1, 2, 1000, reference));
      first_ok = added.ok();
      if (added && added->outcome == InboundAdd::complete) {
        first = true;
        parts = added->message.parts.size();
      }
    });
    std::thread b([&] {
      auto added = other->add_inbound_part("sms", inbound(2, 2, 1000, reference));
      second_ok = added.ok();
      if (added && added->outcome == InboundAdd::complete) {
        second = true;
        parts = added->message.parts.size();
      }
    });
    a.join();
    b.join();
    ASSERT_TRUE(first_ok && second_ok);
    EXPECT_EQ(first + second, 1) << "reference " << reference;
    EXPECT_EQ(parts, 2u) << "reference " << reference;
  }
}
INSTANTIATE_TEST_SUITE_P(Sms, SmsInboundStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
