// The SMS connector end to end against the in-process fake SMSC
// (fake_smsc.hpp) and a SQLite SMS store: a 3-part message is pending
// once every part is answered and recorded, a retry submits only what is
// not recorded, throttling is retried, refusals bounce, no bind defers, a
// receipt resolves the recipient through the PendingSink, and the receipt's
// deliver_sm_resp goes out only once the receipt is durable.
#include "connectors/sms/sms_connector.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "connectors/delivery_tag.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"
#include "store/database.hpp"
#include "tests/unit/sms/fake_smsc.hpp"
#include "tests/unit/temp_dir.hpp"

namespace bh::connectors::sms {
namespace {

using bh::test::eventually;
using bh::test::FakeSmsc;
using namespace std::chrono_literals;

class NoDirectory final : public directory::DirectoryView {
 public:
  directory::Lookup<directory::User> find_user(std::string_view) const override {
    return directory::Lookup<directory::User>::absent();
  }
  directory::Lookup<directory::NumberOwner> find_number(std::string_view) const override {
    return directory::Lookup<directory::NumberOwner>::absent();
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view) const override {
    return directory::Lookup<directory::Tenant>::absent();
  }
};

// Records resolve() calls; may hold them until released.
class Sink final : public PendingSink {
 public:
  struct Call {
    std::string connector, reference;
    RecipientResult result;
  };
  bool resolve(const std::string& connector, const std::string& reference,
               const RecipientResult& result) override {
    std::unique_lock lock(mutex);
    calls.push_back({connector, reference, result});
    released.wait(lock, [this] { return !hold; });
    return accept;
  }
  std::vector<Call> get() {
    std::lock_guard lock(mutex);
    return calls;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      hold = false;
    }
    released.notify_all();
  }
  std::mutex mutex;
  std::condition_variable released;
  std::vector<Call> calls;
  bool hold = false;
  bool accept = true;
};

std::string mail(const std::string& body) {
  return "From: ann@example.com\r\nTo: x@sms.example.com\r\nSubject: hi\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
         body + "\r\n";
}

smpp::ShortMessage receipt(const std::string& id, const std::string& stat = "DELIVRD") {
  smpp::ShortMessage message;
  message.esm_class = 0x04;
  message.source = {1, 1, "491701234567"};
  message.short_message =
      "id:" + id + " sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:" + stat +
      " err:000 text:";
  return message;
}

struct SmsConnectorTest : ::testing::Test {
  FakeSmsc smsc;
  test::TempDir dir{"bh-sms-connector"};
  SmsSettings settings;
  NoDirectory directory;
  Sink sink;
  std::shared_ptr<store::Database> database;
  std::unique_ptr<SmsStore> store;  // the test's own view of the same tables
  std::shared_ptr<SmsConnector> connector;

  SmsConnectorTest() {
    settings.name = "sms-test";
    settings.hostname = "gw.test";
    settings.domains = {"sms.example.com"};
    BindSettings bind;
    bind.port = smsc.port();
    bind.system_id = "bridgehead";
    settings.binds = {bind};
    settings.timing.connect_timeout = 2s;
    settings.timing.response_timeout = 2s;
    settings.timing.reconnect_min = 50ms;
    settings.timing.reconnect_max = 200ms;
    settings.timing.throttle_backoff = 100ms;
    settings.timing.submit_wait = 1s;
    store::StoreSettings store_settings;
    store_settings.path = (dir / "store.db").string();
    auto opened = store::open_database(store_settings);
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
    if (opened) database = *opened;
  }
  ~SmsConnectorTest() override {
    if (connector) connector->stop();
  }

  // with_store false: attach_intake gets no store (the gateway's store is down).
  void start(bool with_store = true) {
    auto made = SmsConnector::create(settings);
    ASSERT_TRUE(made) << made.error().message;
    connector = *made;
    connector->attach(&sink);
    Connector::IntakeServices services;
    services.directory = &directory;
    if (with_store) services.store = database;
    connector->attach_intake(services);
    auto view = SmsStore::open(database);
    ASSERT_TRUE(view) << view.error().message;
    store = std::move(*view);
  }

  std::future<std::vector<RecipientResult>> send(const std::vector<std::string>& to,
                                                 const std::string& content,
                                                 const std::string& queue_id = "Q0001") {
    auto message = std::make_shared<queue::QueuedMessage>();
    message->envelope.queue_id = queue_id;
    message->envelope.sender = Address{"ann", "example.com"};
    std::vector<std::size_t> indexes;
    for (const std::string& address : to) {
      std::size_t at = address.find('@');
      message->envelope.recipients.push_back(
          {Address{address.substr(0, at), address.substr(at + 1)}});
      indexes.push_back(indexes.size());
    }
    message->content = content;
    auto promise = std::make_shared<std::promise<std::vector<RecipientResult>>>();
    connector->deliver({message, indexes},
                       [promise](std::vector<RecipientResult> r) { promise->set_value(r); });
    return promise->get_future();
  }

  static std::vector<RecipientResult> wait(std::future<std::vector<RecipientResult>> future) {
    if (future.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 10 s";
      return {};
    }
    return future.get();
  }
};

const std::string kTo = "+491701234567@sms.example.com";

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
  // Resolved: forgotten.
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", results[0].reference);
    return parts && parts->empty();
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

TEST_F(SmsConnectorTest, TheReceiptIsAnsweredOnlyOnceItIsDurable) {
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
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(smsc.deliver_answers().empty());  // still inside resolve()
  sink.release();
  auto answered = settled_at_answer.get_future();
  ASSERT_EQ(answered.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(answered.get());
  EXPECT_EQ(smsc.deliver_answers().at(0).status, 0u);
  smsc.on_deliver_answer(nullptr);
}

TEST_F(SmsConnectorTest, TheSweepResolvesWhatTheSinkCouldNotRecord) {
  sink.accept = false;
  start();
  auto results = wait(send({kTo}, mail("hello")));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, Outcome::pending);
  smsc.send_deliver(receipt(smsc.message_ids().at(0)));
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 1; }));
  ASSERT_TRUE(eventually([&] { return smsc.deliver_answers().size() == 1; }));
  EXPECT_EQ(smsc.deliver_answers().front().status, 0u);  // the receipt itself is durable
  {
    std::lock_guard lock(sink.mutex);
    sink.accept = true;
  }
  // The sweep (every 10 s) settles it again, then forgets it.
  ASSERT_TRUE(eventually([&] { return sink.get().size() == 2; }, 15s));
  EXPECT_EQ(sink.get().back().reference, results[0].reference);
  EXPECT_EQ(sink.get().back().result.outcome, Outcome::delivered);
  ASSERT_TRUE(eventually([&] {
    auto parts = store->parts_of("sms-test", results[0].reference);
    return parts && parts->empty();
  }));
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
