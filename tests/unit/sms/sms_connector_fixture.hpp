// The SMS connector's test fixture: an in-process fake SMSC
// (fake_smsc.hpp), a SQLite store, a directory that knows nobody and a
// PendingSink that records (and may hold) what it is given.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>

#include "connectors/delivery_tag.hpp"
#include "connectors/sms/sms_connector.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/directory.hpp"
#include "store/database.hpp"
#include "tests/unit/sms/fake_smsc.hpp"
#include "tests/unit/temp_dir.hpp"

namespace bh::connectors::sms::connector_test {

using bh::test::eventually;
using bh::test::FakeSmsc;
using namespace std::chrono_literals;

class NoDirectory final : public directory::DirectoryView {
 public:
  directory::Lookup<directory::User> find_user(std::string_view) const override {
    if (fail) throw std::runtime_error("directory broke");
    return directory::Lookup<directory::User>::absent();
  }
  std::atomic<bool> fail{false};  // find_user throws (a job of the store thread that throws)
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

inline std::string mail(const std::string& body) {
  return "From: ann@example.com\r\nTo: x@sms.example.com\r\nSubject: hi\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
         body + "\r\n";
}

inline smpp::ShortMessage receipt(const std::string& id, const std::string& stat = "DELIVRD") {
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

inline const std::string kTo = "+491701234567@sms.example.com";

}  // namespace bh::connectors::sms::connector_test
