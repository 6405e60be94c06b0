#include "connectors/sms/sms_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/store/store_fixture.hpp"

namespace {

using bh::connectors::sms::InboundMessage;
using bh::connectors::sms::InboundPart;
using bh::connectors::sms::PartRecord;
using bh::connectors::sms::ReceiptRecord;
using bh::connectors::sms::ReceiptState;
using bh::connectors::sms::Settlement;
using bh::connectors::sms::SmsStore;
using bh::store::Backend;
using bh::test::TestStore;

// Each test on a fresh store of each backend.
class SmsStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok()) << db.message();
    store = open();
    ASSERT_TRUE(store);
  }
  std::unique_ptr<SmsStore> open() const {
    auto database = db.open();
    if (!database) return nullptr;
    auto opened = SmsStore::open(database);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  void part(const std::string& reference, const std::string& id, int number, int parts,
            std::int64_t now = 1000, const std::string& connector = "sms") {
    auto added = store->add_part(connector, reference, {id, number, parts}, now);
    ASSERT_TRUE(added) << added.error().message;
  }
  std::optional<std::string> receipt(const std::string& id, ReceiptState state,
                                     std::int64_t now = 1001,
                                     const std::string& connector = "sms") {
    auto added = store->add_receipt(connector, {id, state, "000", "stat text " + id}, now);
    EXPECT_TRUE(added) << added.error().message;
    return added ? *added : std::nullopt;
  }
  std::optional<Settlement> settle(const std::string& reference) {
    auto settled = store->settle("sms", reference);
    EXPECT_TRUE(settled) << settled.error().message;
    return settled ? *settled : std::nullopt;
  }
  std::vector<std::string> settled_references(std::size_t limit = 100) {
    auto references = store->settled_references("sms", limit);
    EXPECT_TRUE(references) << references.error().message;
    return references ? *references : std::vector<std::string>{};
  }

  TestStore db{GetParam()};
  std::unique_ptr<SmsStore> store;
};

TEST_P(SmsStoreTest, OnePartDelivered) {
  part("tag-1", "m1", 1, 1);
  EXPECT_FALSE(settle("tag-1").has_value());
  EXPECT_TRUE(settled_references().empty());
  EXPECT_EQ(receipt("m1", ReceiptState::delivered), "tag-1");
  auto settled = settle("tag-1");
  ASSERT_TRUE(settled.has_value());
  EXPECT_TRUE(settled->delivered);
  EXPECT_EQ(settled->reference, "tag-1");
  EXPECT_EQ(settled->parts, 1);
  EXPECT_EQ(settled->failed_part, 0);
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-1"});
  // Another connector's rows are its own.
  EXPECT_FALSE(store->settle("other", "tag-1").value().has_value());
  EXPECT_TRUE(store->settled_references("other", 10).value().empty());
}

TEST_P(SmsStoreTest, ThreePartsInAnyOrder) {
  part("tag-3", "c", 3, 3);
  part("tag-3", "a", 1, 3);
  EXPECT_EQ(receipt("c", ReceiptState::delivered), "tag-3");
  EXPECT_EQ(receipt("a", ReceiptState::delivered), "tag-3");
  // Two of three parts recorded, both delivered: part 2 is still open.
  EXPECT_FALSE(settle("tag-3").has_value());
  EXPECT_TRUE(settled_references().empty());
  part("tag-3", "b", 2, 3);
  EXPECT_FALSE(settle("tag-3").has_value());
  EXPECT_EQ(receipt("b", ReceiptState::delivered), "tag-3");
  auto settled = settle("tag-3");
  ASSERT_TRUE(settled.has_value());
  EXPECT_TRUE(settled->delivered);
  EXPECT_EQ(settled->parts, 3);
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-3"});

  auto parts = store->parts_of("sms", "tag-3");
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].message_id, "a");
  EXPECT_EQ((*parts)[1].message_id, "b");
  EXPECT_EQ((*parts)[2].message_id, "c");
  EXPECT_EQ((*parts)[2].part, 3);
  EXPECT_EQ((*parts)[2].parts, 3);
}

// A receipt within milliseconds of submit_sm_resp, before its part is
// recorded: kept, and the part finds it.
TEST_P(SmsStoreTest, EarlyReceiptBeforeItsPart) {
  EXPECT_EQ(receipt("early", ReceiptState::delivered), std::nullopt);
  EXPECT_TRUE(settled_references().empty());
  part("tag-e", "early", 1, 1);
  auto settled = settle("tag-e");
  ASSERT_TRUE(settled.has_value());
  EXPECT_TRUE(settled->delivered);
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-e"});
}

TEST_P(SmsStoreTest, FailureAmongPartsSettlesWithTheLowestFailedPart) {
  part("tag-f", "p1", 1, 4);
  part("tag-f", "p2", 2, 4);
  part("tag-f", "p3", 3, 4);
  EXPECT_EQ(receipt("p3", ReceiptState::expired), "tag-f");
  // Settled at once although parts 1, 2 and 4 have no receipt.
  auto settled = settle("tag-f");
  ASSERT_TRUE(settled.has_value());
  EXPECT_FALSE(settled->delivered);
  EXPECT_EQ(settled->parts, 4);
  EXPECT_EQ(settled->failed_part, 3);
  EXPECT_EQ(settled->failure.message_id, "p3");
  EXPECT_EQ(settled->failure.state, ReceiptState::expired);
  EXPECT_EQ(settled->failure.error, "000");
  EXPECT_EQ(settled->failure.text, "stat text p3");
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-f"});

  EXPECT_EQ(receipt("p1", ReceiptState::delivered), "tag-f");
  EXPECT_EQ(receipt("p2", ReceiptState::undeliverable), "tag-f");
  settled = settle("tag-f");
  ASSERT_TRUE(settled.has_value());
  EXPECT_FALSE(settled->delivered);
  EXPECT_EQ(settled->failed_part, 2);
  EXPECT_EQ(settled->failure.state, ReceiptState::undeliverable);
}

TEST_P(SmsStoreTest, AddsAreIdempotentAndALaterReceiptReplaces) {
  part("tag-i", "x1", 1, 2);
  part("tag-i", "x1", 1, 2);
  part("tag-i", "x2", 2, 2);
  EXPECT_EQ(store->parts_of("sms", "tag-i").value().size(), 2u);
  EXPECT_EQ(receipt("x1", ReceiptState::delivered), "tag-i");
  EXPECT_EQ(receipt("x1", ReceiptState::delivered), "tag-i");
  EXPECT_EQ(receipt("x2", ReceiptState::undeliverable), "tag-i");
  auto failed = settle("tag-i");
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(failed->delivered);
  // The SMSC corrects itself with a later final receipt.
  EXPECT_EQ(receipt("x2", ReceiptState::delivered), "tag-i");
  auto settled = settle("tag-i");
  ASSERT_TRUE(settled.has_value());
  EXPECT_TRUE(settled->delivered);
}

// A part submitted twice (its answer was lost) has two rows: one DELIVRD
// for that part number is enough.
TEST_P(SmsStoreTest, PartSubmittedTwiceCountsOnce) {
  part("tag-d", "d1", 1, 2);
  part("tag-d", "d2a", 2, 2);
  part("tag-d", "d2b", 2, 2);
  receipt("d1", ReceiptState::delivered);
  receipt("d2b", ReceiptState::delivered);
  auto settled = settle("tag-d");
  ASSERT_TRUE(settled.has_value());
  EXPECT_TRUE(settled->delivered);
  EXPECT_EQ(settled->parts, 2);
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-d"});
}

TEST_P(SmsStoreTest, IntermediateReceiptsAreRefused) {
  part("tag-n", "n1", 1, 1);
  for (ReceiptState state : {ReceiptState::enroute, ReceiptState::accepted}) {
    auto added = store->add_receipt("sms", {"n1", state, "", ""}, 1001);
    ASSERT_FALSE(added);
    EXPECT_NE(added.error().message.find("only final states"), std::string::npos);
  }
  EXPECT_FALSE(settle("tag-n").has_value());
}

TEST_P(SmsStoreTest, ForgetRemovesPartsAndTheirReceipts) {
  part("tag-g", "g1", 1, 1);
  part("tag-h", "h1", 1, 1);
  receipt("g1", ReceiptState::delivered);
  receipt("h1", ReceiptState::delivered);
  receipt("stray", ReceiptState::delivered);
  ASSERT_TRUE(store->forget("sms", "tag-g"));
  EXPECT_TRUE(store->parts_of("sms", "tag-g").value().empty());
  EXPECT_FALSE(settle("tag-g").has_value());
  EXPECT_EQ(settled_references(), std::vector<std::string>{"tag-h"});
  // g1's receipt went with it: a new part with that id has no receipt.
  part("tag-g2", "g1", 1, 1);
  EXPECT_FALSE(settle("tag-g2").has_value());
  // A receipt without a part stays (its part may come).
  part("tag-s", "stray", 1, 1);
  EXPECT_TRUE(settle("tag-s").has_value());
}

TEST_P(SmsStoreTest, PurgeRemovesOldRowsOfBothTables) {
  part("old", "o1", 1, 2, 100);
  part("new", "n1", 1, 1, 5000);
  ASSERT_TRUE(store->add_receipt("sms", {"orphan", ReceiptState::delivered, "", ""}, 100));
  ASSERT_TRUE(store->add_receipt("sms", {"n1", ReceiptState::delivered, "", ""}, 5001));
  auto purged = store->purge(1000);
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 2u);  // o1 and the orphan receipt
  EXPECT_TRUE(store->parts_of("sms", "old").value().empty());
  EXPECT_EQ(store->parts_of("sms", "new").value().size(), 1u);
  EXPECT_TRUE(settle("new").has_value());
  part("late", "orphan", 1, 1, 6000);
  EXPECT_FALSE(settle("late").has_value());  // the orphan receipt is gone
  EXPECT_EQ(store->purge(1000).value(), 0u);
}

TEST_P(SmsStoreTest, SettledReferencesAreLimitedOldestFirst) {
  for (int i = 0; i < 5; ++i) {
    std::string n = std::to_string(i);
    part("ref-" + n, "id-" + n, 1, 1, 2000 - i);
    receipt("id-" + n, i % 2 ? ReceiptState::rejected : ReceiptState::delivered);
  }
  part("open", "id-open", 1, 1, 10);
  EXPECT_EQ(settled_references(3), (std::vector<std::string>{"ref-4", "ref-3", "ref-2"}));
  EXPECT_EQ(settled_references().size(), 5u);
}

// What the store holds is shared: another opener (node) sees it.
TEST_P(SmsStoreTest, AnotherNodeSeesPartsAndReceipts) {
  part("tag-2n", "q1", 1, 1);
  auto other = open();
  ASSERT_TRUE(other);
  auto reference = other->add_receipt("sms", {"q1", ReceiptState::delivered, "", ""}, 1001);
  ASSERT_TRUE(reference) << reference.error().message;
  EXPECT_EQ(*reference, "tag-2n");
  EXPECT_TRUE(settle("tag-2n").has_value());
}

TEST_P(SmsStoreTest, ConversationsRememberTheLatestNumber) {
  EXPECT_FALSE(store->conversation_number("anna@example.com", "+491701234567").value());
  ASSERT_TRUE(store->remember_conversation("Anna@Example.com", "+491701234567", "+4930111", 100));
  EXPECT_EQ(store->conversation_number("anna@example.com", "+491701234567").value(), "+4930111");
  ASSERT_TRUE(store->remember_conversation("anna@example.com", "+491701234567", "+4930222", 200));
  EXPECT_EQ(store->conversation_number("ANNA@example.com", "+491701234567").value(), "+4930222");
  // An older SMS (another node, late) does not win over a newer one.
  ASSERT_TRUE(store->remember_conversation("anna@example.com", "+491701234567", "+4930333", 150));
  EXPECT_EQ(store->conversation_number("anna@example.com", "+491701234567").value(), "+4930222");
  EXPECT_FALSE(store->conversation_number("anna@example.com", "+491709999999").value());
  EXPECT_FALSE(store->conversation_number("bob@example.com", "+491701234567").value());
}

InboundPart inbound(int sequence, int total = 3, std::int64_t at = 1000, int reference = 42) {
  return {"+491701234567",
          "+4930111",
          reference,
          total,
          sequence,
          "part " + std::to_string(sequence) + " äö",
          at};
}

TEST_P(SmsStoreTest, InboundReassemblyInAnyOrder) {
  auto added = store->add_inbound_part("sms", inbound(3, 3, 1003));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_FALSE(added->has_value());
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(1, 3, 1001)).value().has_value());
  // Another message (other reference) does not mix in.
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(2, 3, 1002, 43)).value().has_value());
  added = store->add_inbound_part("sms", inbound(2, 3, 1002));
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(added->has_value());
  const InboundMessage& message = **added;
  EXPECT_EQ(message.source, "+491701234567");
  EXPECT_EQ(message.destination, "+4930111");
  EXPECT_EQ(message.reference, 42);
  EXPECT_EQ(message.total, 3);
  EXPECT_EQ(message.first_received_at, 1001);
  ASSERT_EQ(message.parts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(message.parts[i].sequence, i + 1);
    EXPECT_EQ(message.parts[i].text, "part " + std::to_string(i + 1) + " äö");
    EXPECT_EQ(message.parts[i].received_at, 1001 + i);
  }
  ASSERT_TRUE(store->remove_inbound("sms", message));
  // Removed: the same key starts afresh.
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(1, 3, 2000)).value().has_value());
}

TEST_P(SmsStoreTest, InboundDuplicatesKeepTheFirstText) {
  ASSERT_FALSE(store->add_inbound_part("sms", inbound(1, 2)).value().has_value());
  InboundPart again = inbound(1, 2, 1500);
  again.text = "changed";
  EXPECT_FALSE(store->add_inbound_part("sms", again).value().has_value());
  auto complete = store->add_inbound_part("sms", inbound(2, 2, 1600));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_TRUE(complete->has_value());
  ASSERT_EQ((*complete)->parts.size(), 2u);
  EXPECT_EQ((*complete)->parts[0].text, "part 1 äö");
  EXPECT_EQ((*complete)->first_received_at, 1000);
  // Sent again before the mail was queued and the parts removed: complete
  // again (the caller retries what it could not queue).
  complete = store->add_inbound_part("sms", inbound(2, 2, 1700));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_TRUE(complete->has_value());
  EXPECT_EQ((*complete)->parts.size(), 2u);
}

TEST_P(SmsStoreTest, InboundPartOutsideItsTotalIsRefused) {
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(4, 3)));
  EXPECT_FALSE(store->add_inbound_part("sms", inbound(0, 3)));
}

TEST_P(SmsStoreTest, InboundSinglePartIsCompleteAtOnce) {
  auto complete = store->add_inbound_part("sms", inbound(1, 1));
  ASSERT_TRUE(complete) << complete.error().message;
  ASSERT_TRUE(complete->has_value());
  EXPECT_EQ((*complete)->parts.size(), 1u);
}

TEST_P(SmsStoreTest, InboundExpiry) {
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
  ASSERT_TRUE(store->remove_inbound("sms", message));
  EXPECT_TRUE(store->expired_inbound("sms", 500).value().empty());
  EXPECT_EQ(store->expired_inbound("other", 500).value().size(), 1u);
  // A complete message is not expired (it is mailed as it completes).
  ASSERT_TRUE(store->add_inbound_part("sms", inbound(1, 1, 10, 9)));
  EXPECT_EQ(store->expired_inbound("sms", 1000).value().size(), 1u);
}

// The last two parts of a message reach two nodes at once: exactly one of
// them sees the message complete (neither may leave it to the timeout).
TEST_P(SmsStoreTest, InboundPartsAtTwoNodesAtOnceCompleteOnce) {
  auto other = open();
  ASSERT_TRUE(other);
  for (int reference = 0; reference < 40; ++reference) {
    std::optional<InboundMessage> first, second;
    bool first_ok = false, second_ok = false;
    std::thread a([&] {
      auto added = store->add_inbound_part("sms", inbound(1, 2, 1000, reference));
      first_ok = added.ok();
      if (added) first = *added;
    });
    std::thread b([&] {
      auto added = other->add_inbound_part("sms", inbound(2, 2, 1000, reference));
      second_ok = added.ok();
      if (added) second = *added;
    });
    a.join();
    b.join();
    ASSERT_TRUE(first_ok && second_ok);
    EXPECT_EQ(first.has_value() + second.has_value(), 1) << "reference " << reference;
    const std::optional<InboundMessage>& complete = first ? first : second;
    if (complete) EXPECT_EQ(complete->parts.size(), 2u);
  }
}

// The store a second time (a restart, another node): migrations applied once.
TEST_P(SmsStoreTest, ReopensWithItsRows) {
  part("tag-r", "r1", 1, 1);
  store.reset();
  store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->parts_of("sms", "tag-r").value().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Sms, SmsStoreTest, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

}  // namespace
