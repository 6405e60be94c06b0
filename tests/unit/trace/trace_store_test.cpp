#include "trace/trace_store.hpp"

#include <gtest/gtest.h>

#include "store/store_error.hpp"
#include "tests/unit/store/store_fixture.hpp"
#include "trace/facts_text.hpp"
#include "trace/time_text.hpp"
#include "trace/trace_json.hpp"

namespace {

using bh::store::Backend;
using bh::test::TestStore;
using bh::trace::Kind;
using bh::trace::MessageQuery;
using bh::trace::TraceEvent;
using bh::trace::TraceStore;

TraceEvent event(std::string id, std::int64_t ms, Kind kind, std::string stage = {},
                 std::string recipient = {}) {
  TraceEvent e;
  e.message_id = std::move(id);
  e.time_ms = ms;
  e.node = "mx1";
  e.kind = kind;
  e.stage = std::move(stage);
  e.recipient = std::move(recipient);
  return e;
}

TraceEvent received(std::string id, std::int64_t ms, std::string sender,
                    std::vector<std::string> recipients, std::string tenant = "t1") {
  TraceEvent e = event(std::move(id), ms, Kind::received, "queue");
  e.sender = std::move(sender);
  e.recipients = std::move(recipients);
  e.tenant = std::move(tenant);
  e.subject = "Invoice 7";
  e.code = 250;
  e.enhanced = "2.0.0";
  e.facts = {{"client_ip", "192.0.2.7"}, {"helo", "client.example"}, {"tls", "TLSv1.3"}};
  return e;
}

class TraceStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test_store.ok()) << test_store.message();
    auto database = test_store.open();
    ASSERT_TRUE(database);
    auto opened = TraceStore::open(database);
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }
  void write(const std::vector<TraceEvent>& events) {
    auto written = store->write(events);
    ASSERT_TRUE(written) << written.error().message;
  }
  std::vector<std::string> ids(const MessageQuery& query) {
    auto page = store->list(query);
    EXPECT_TRUE(page) << page.error().message;
    std::vector<std::string> out;
    if (page)
      for (const auto& m : page->messages) out.push_back(m.id);
    return out;
  }

  TestStore test_store{GetParam()};
  std::unique_ptr<TraceStore> store;
};

// A message accepted, routed, attempted and delivered: one message, its
// events in order, its recipient delivered.
TEST_P(TraceStoreTest, DeliveredMessageHasItsEventsInOrder) {
  TraceEvent decision = event("Q1", 1000, Kind::decision, "rcpt", "bob@example.test");
  decision.detail = "recipient accepted";
  TraceEvent route = event("Q1", 1100, Kind::route, "routes", "bob@example.test");
  route.connector = "out";
  TraceEvent attempt = event("Q1", 1200, Kind::attempt, "delivered", "bob@example.test");
  attempt.connector = "out";
  attempt.code = 250;
  attempt.detail = "250 2.0.0 Ok: queued as X";
  attempt.duration_ms = 42;
  TraceEvent done = event("Q1", 1200, Kind::delivered, "attempt", "bob@example.test");
  done.connector = "out";
  write({decision, received("Q1", 1001, "Alice@Example.test", {"bob@example.test"})});
  write({route, attempt, done});

  auto trace = store->get("Q1");
  ASSERT_TRUE(trace) << trace.error().message;
  EXPECT_EQ(trace->summary.status, "delivered");
  EXPECT_EQ(trace->summary.sender, "Alice@Example.test");
  EXPECT_EQ(trace->summary.tenant, "t1");
  EXPECT_EQ(trace->summary.subject, "Invoice 7");
  EXPECT_EQ(trace->summary.first_ms, 1000);
  EXPECT_EQ(trace->summary.last_ms, 1200);
  ASSERT_EQ(trace->summary.recipients.size(), 1u);
  EXPECT_EQ(trace->summary.recipients[0].status, "delivered");
  EXPECT_EQ(trace->summary.recipients[0].connector, "out");
  ASSERT_EQ(trace->events.size(), 5u);
  std::vector<Kind> kinds;
  for (const auto& e : trace->events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<Kind>{Kind::decision, Kind::received, Kind::route, Kind::attempt,
                                      Kind::delivered}));
  const TraceEvent& r = trace->events[1];
  EXPECT_EQ(r.sender, "Alice@Example.test");
  EXPECT_EQ(r.recipients, std::vector<std::string>{"bob@example.test"});
  EXPECT_EQ(r.facts,
            (bh::trace::Facts{
                {"client_ip", "192.0.2.7"}, {"helo", "client.example"}, {"tls", "TLSv1.3"}}));
  EXPECT_EQ(trace->events[3].duration_ms, 42);
  EXPECT_EQ(trace->events[3].detail, "250 2.0.0 Ok: queued as X");
  EXPECT_EQ(trace->events[3].code, 250);
}

TEST_P(TraceStoreTest, UnknownMessageIsNotFound) {
  auto trace = store->get("nope");
  ASSERT_FALSE(trace);
  EXPECT_TRUE(bh::store::is(trace.error(), bh::store::StoreErrc::not_found));
}

// A recipient refused at RCPT TO in a transaction that was then accepted:
// the message is queued, the refused recipient is found by recipient= with
// its own status.
TEST_P(TraceStoreTest, RefusedRecipientOfAnAcceptedMessageIsFound) {
  TraceEvent refused = event("Q2", 2000, Kind::refused, "rcpt", "nobody@example.test");
  refused.sender = "alice@example.test";
  refused.code = 550;
  refused.enhanced = "5.7.1";
  write({refused, received("Q2", 2100, "alice@example.test", {"bob@example.test"})});
  auto trace = store->get("Q2");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->summary.status, "queued");
  ASSERT_EQ(trace->summary.recipients.size(), 2u);
  EXPECT_EQ(trace->summary.recipients[0].address, "bob@example.test");
  EXPECT_EQ(trace->summary.recipients[0].status, "queued");
  EXPECT_EQ(trace->summary.recipients[1].status, "refused");
  EXPECT_EQ(ids({.recipient = "NOBODY@example.test"}), std::vector<std::string>{"Q2"});
}

// Refused at the end of DATA: the message is "refused", with its envelope.
TEST_P(TraceStoreTest, MessageRefusedAtDataKeepsItsEnvelope) {
  TraceEvent refused = event("Q3", 3000, Kind::refused, "data");
  refused.sender = "mallory@example.test";
  refused.recipients = {"bob@example.test"};
  refused.code = 550;
  refused.enhanced = "5.7.1";
  refused.detail = "unknown tenant";
  write({refused});
  auto trace = store->get("Q3");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->summary.status, "refused");
  EXPECT_EQ(trace->summary.sender, "mallory@example.test");
  EXPECT_EQ(ids({.sender = "mallory@example.test"}), std::vector<std::string>{"Q3"});
  EXPECT_EQ(ids({.status = "refused"}), std::vector<std::string>{"Q3"});
  EXPECT_EQ(ids({.recipient = "bob@example.test", .status = "refused"}),
            std::vector<std::string>{"Q3"});
}

TEST_P(TraceStoreTest, FiltersAreExactAndCombine) {
  write({received("A", 1000, "a@example.test", {"x@example.test"}, "t1"),
         received("B", 2000, "b@example.test", {"x@example.test", "y@example.test"}, "t2"),
         received("C", 3000, "a@example.test", {"y@example.test"}, "t2")});
  EXPECT_EQ(ids({.sender = "a@example.test"}), (std::vector<std::string>{"C", "A"}));
  EXPECT_EQ(ids({.sender = "a@example"}), std::vector<std::string>{});
  EXPECT_EQ(ids({.recipient = "x@example.test"}), (std::vector<std::string>{"B", "A"}));
  EXPECT_EQ(ids({.tenant = "t2"}), (std::vector<std::string>{"C", "B"}));
  EXPECT_EQ(ids({.sender = "a@example.test", .tenant = "t2"}), std::vector<std::string>{"C"});
  EXPECT_EQ(ids({.since_ms = 2000}), (std::vector<std::string>{"C", "B"}));
  EXPECT_EQ(ids({.status = "queued"}), (std::vector<std::string>{"C", "B", "A"}));
}

TEST_P(TraceStoreTest, PagesFollowEachOther) {
  std::vector<TraceEvent> events;
  for (int i = 0; i < 5; ++i)
    events.push_back(received("M" + std::to_string(i), 1000 + (i / 2), "a@example.test", {"x@t"}));
  write(events);
  std::vector<std::string> seen;
  MessageQuery query{.limit = 2};
  for (int pages = 0; pages < 5; ++pages) {
    auto page = store->list(query);
    ASSERT_TRUE(page) << page.error().message;
    for (const auto& m : page->messages) seen.push_back(m.id);
    if (page->next.empty()) break;
    EXPECT_EQ(page->messages.size(), 2u);
    query.after = page->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"M4", "M3", "M2", "M1", "M0"}));
}

TEST_P(TraceStoreTest, StatusFollowsTheRecipients) {
  write({received("P", 1000, "a@example.test", {"x@example.test", "y@example.test"})});
  TraceEvent deferred = event("P", 1100, Kind::attempt, "deferred", "x@example.test");
  write({deferred});
  EXPECT_EQ(store->get("P")->summary.status, "deferred");
  TraceEvent pending = event("P", 1200, Kind::pending, "attempt", "x@example.test");
  TraceEvent delivered = event("P", 1200, Kind::delivered, "attempt", "y@example.test");
  write({pending, delivered});
  EXPECT_EQ(store->get("P")->summary.status, "pending");
  write({event("P", 1300, Kind::bounced, "report", "x@example.test")});
  EXPECT_EQ(store->get("P")->summary.status, "partial");
  // A final result stays final.
  write({event("P", 1400, Kind::attempt, "deferred", "y@example.test")});
  EXPECT_EQ(store->get("P")->summary.status, "partial");
  write({received("E", 1000, "a@example.test", {"x@example.test"}),
         event("E", 1500, Kind::expired, "lifetime", "x@example.test")});
  EXPECT_EQ(store->get("E")->summary.status, "expired");
}

// An event of a message this store has no summary of (a report at another
// node after the received event was lost) still makes a message.
TEST_P(TraceStoreTest, EventsWithoutASummaryStillMakeAMessage) {
  write({event("Z", 5000, Kind::dsn, "failure")});
  auto trace = store->get("Z");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->events.size(), 1u);
}

TEST_P(TraceStoreTest, PurgeRemovesWhatIsOlderThanTheCutOff) {
  write({received("OLD", 1000, "a@example.test", {"x@example.test"}),
         event("OLD", 1500, Kind::delivered, "attempt", "x@example.test"),
         received("NEW", 5000, "a@example.test", {"x@example.test"})});
  auto purged = store->purge(2000);
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(store->get("OLD"));
  EXPECT_TRUE(store->get("NEW"));
  EXPECT_EQ(ids({.recipient = "x@example.test"}), std::vector<std::string>{"NEW"});
  auto events = store->database().query("SELECT COUNT(*) FROM bh_trace_events");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().integer(0), 1);
}

// Values from clients come back as they were, and the JSON escapes them.
TEST_P(TraceStoreTest, ClientValuesRoundTripAndAreEscapedInJson) {
  TraceEvent e = received("J", 1000, "a@example.test", {"x@example.test"});
  e.subject = "Quote \" and \\ and\ttab";
  e.facts = {{"client_cert", "CN=a=b%c\nd"}, {"helo", "h"}};
  write({e});
  auto trace = store->get("J");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->summary.subject, e.subject);
  EXPECT_EQ(trace->events[0].facts, e.facts);
  std::string json = bh::trace::trace_json(*trace);
  EXPECT_NE(json.find(R"("subject":"Quote \" and \\ and\ttab")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("client_cert":"CN=a=b%c\nd")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("first_time":"1970-01-01T00:00:01.000Z")"), std::string::npos) << json;
}

// Events of another node for the message (a report it handled) may come
// first; the receiving node's summary still sets node and envelope. A second
// node's summary for the same id (ids carry a node tag, so only on a
// misconfiguration) changes nothing: its envelope, recipients and events of
// that batch are not merged into the first node's message.
TEST_P(TraceStoreTest, AnotherNodesMessageWithTheSameIdIsNotMerged) {
  TraceEvent report = event("Q9", 900, Kind::pending, "report", "bob@example.test");
  report.node = "mx2";
  write({report});
  write({received("Q9", 1000, "alice@example.test", {"bob@example.test"}, "t1")});
  auto first = store->get("Q9");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->summary.node, "mx1");
  EXPECT_EQ(first->summary.sender, "alice@example.test");

  TraceEvent other = received("Q9", 2000, "mallory@other.test", {"eve@other.test"}, "t2");
  other.node = "mx2";
  TraceEvent later = event("Q9", 2001, Kind::decision, "rules", "eve@other.test");
  later.node = "mx2";
  write({other, later});
  auto trace = store->get("Q9");
  ASSERT_TRUE(trace) << trace.error().message;
  EXPECT_EQ(trace->summary.node, "mx1");
  EXPECT_EQ(trace->summary.sender, "alice@example.test");
  EXPECT_EQ(trace->summary.tenant, "t1");
  ASSERT_EQ(trace->summary.recipients.size(), 1u);
  EXPECT_EQ(trace->summary.recipients[0].address, "bob@example.test");
  ASSERT_EQ(trace->events.size(), 2u);  // mx2's report and mx1's received
  for (const TraceEvent& e : trace->events) EXPECT_NE(e.sender, "mallory@other.test");
  MessageQuery by_tenant;
  by_tenant.tenant = "t2";
  EXPECT_TRUE(ids(by_tenant).empty());

  // The receiving node's own later summary still counts.
  TraceEvent again = received("Q9", 3000, "alice@example.test", {"bob@example.test"}, "t1");
  again.subject = "Invoice 8";
  write({again});
  auto updated = store->get("Q9");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->summary.subject, "Invoice 8");
}

INSTANTIATE_TEST_SUITE_P(Trace, TraceStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         bh::test::backend_test_name);

TEST(TraceTimeText, FormatsAndParses) {
  EXPECT_EQ(bh::trace::format_time_ms(1764633541123), "2025-12-01T23:59:01.123Z");
  EXPECT_EQ(bh::trace::parse_time("1764633541"), 1764633541000);
  EXPECT_EQ(bh::trace::parse_time("2025-12-01T23:59:01Z"), 1764633541000);
  EXPECT_EQ(bh::trace::parse_time("2025-12-01T23:59:01.5Z"), 1764633541500);
  EXPECT_EQ(bh::trace::parse_time("2025-12-02T00:59:01+01:00"), 1764633541000);
  EXPECT_EQ(bh::trace::parse_time("2025-12-01"), 1764547200000);
  for (const char* bad : {"", "yesterday", "2025-13-01", "2025-02-30", "2025-12-01T25:00:00Z",
                          "2025-12-01T10:00:00", "2025-12-01T10:00:00Zjunk", "-5"})
    EXPECT_FALSE(bh::trace::parse_time(bad)) << bad;
}

TEST(TraceFactsText, RoundTripsAnyBytes) {
  bh::trace::Facts facts{{"a=b", "x%y=z\r\n\x01"}, {"", ""}, {"k", "v"}};
  EXPECT_EQ(bh::trace::parse_facts(bh::trace::format_facts(facts)), facts);
}

}  // namespace
