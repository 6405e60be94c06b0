#include "connectors/sms/sms_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/sms/sms_store_fixture.hpp"

namespace {

using bh::connectors::sms::InboundPart;
using bh::connectors::sms::kConversationSeconds;
using bh::connectors::sms::kSeenSeconds;
using bh::connectors::sms::ReceiptState;
using bh::connectors::sms::Settlement;
using bh::store::Backend;

// Each test on a fresh store of each backend.
class SmsStoreTest : public bh::test::SmsStoreFixture {
 protected:
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
  auto number = [&](const std::string& mailbox, const std::string& remote,
                    const std::string& connector = "sms") {
    auto found = store->conversation_number(connector, mailbox, remote);
    EXPECT_TRUE(found) << found.error().message;
    return found ? *found : std::nullopt;
  };
  EXPECT_FALSE(number("anna@example.com", "+491701234567"));
  ASSERT_TRUE(
      store->remember_conversation("sms", "Anna@Example.com", "+491701234567", "+4930111", 100));
  EXPECT_EQ(number("anna@example.com", "+491701234567"), "+4930111");
  ASSERT_TRUE(
      store->remember_conversation("sms", "anna@example.com", "+491701234567", "+4930222", 200));
  EXPECT_EQ(number("ANNA@example.com", "+491701234567"), "+4930222");
  // An older SMS (another node, late) does not win over a newer one.
  ASSERT_TRUE(
      store->remember_conversation("sms", "anna@example.com", "+491701234567", "+4930333", 150));
  EXPECT_EQ(number("anna@example.com", "+491701234567"), "+4930222");
  EXPECT_FALSE(number("anna@example.com", "+491709999999"));
  EXPECT_FALSE(number("bob@example.com", "+491701234567"));
  // Each connector has its own conversations.
  EXPECT_FALSE(number("anna@example.com", "+491701234567", "other"));
  ASSERT_TRUE(
      store->remember_conversation("other", "anna@example.com", "+491701234567", "+4930444", 300));
  EXPECT_EQ(number("anna@example.com", "+491701234567", "other"), "+4930444");
  EXPECT_EQ(number("anna@example.com", "+491701234567"), "+4930222");
}

TEST_P(SmsStoreTest, PurgeRemovesOldConversationsSeenKeysAndInboundParts) {
  const std::int64_t now = 100'000'000;
  ASSERT_TRUE(store->remember_conversation("sms", "old@example.com", "+491701", "+4930111",
                                           now - kConversationSeconds - 1));
  ASSERT_TRUE(store->remember_conversation("sms", "new@example.com", "+491701", "+4930111",
                                           now - kConversationSeconds + 10));
  ASSERT_TRUE(store->mark_inbound_seen("sms", "old-key", now - kSeenSeconds - 1));
  ASSERT_TRUE(store->mark_inbound_seen("sms", "new-key", now - kSeenSeconds + 10));
  InboundPart stale{"+491701234567", "+4930111", 1, 2, 1, "stale", now - 20 * 24 * 3600, true};
  InboundPart fresh{"+491701234567", "+4930111", 2, 2, 1, "fresh", now - 60, true};
  ASSERT_TRUE(store->add_inbound_part("sms", stale));
  ASSERT_TRUE(store->add_inbound_part("sms", fresh));

  auto purged = store->purge(now - 14 * 24 * 3600, now);
  ASSERT_TRUE(purged) << purged.error().message;
  // The conversation, the seen key, the stale part and its head row.
  EXPECT_EQ(*purged, 4u);
  EXPECT_FALSE(store->conversation_number("sms", "old@example.com", "+491701").value());
  EXPECT_EQ(store->conversation_number("sms", "new@example.com", "+491701").value(), "+4930111");
  EXPECT_FALSE(store->inbound_seen("sms", "old-key", 0).value());
  EXPECT_TRUE(store->inbound_seen("sms", "new-key", 0).value());
  auto left = store->expired_inbound("sms", now + 1);
  ASSERT_TRUE(left) << left.error().message;
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().parts.front().text, "fresh");
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
