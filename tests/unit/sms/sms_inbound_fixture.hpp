// What the SmsInbound tests share (sms_inbound_test.cpp,
// sms_inbound_parts_test.cpp, sms_inbound_retry_test.cpp): a real intake
// (routing, the group commit, a spool on disk), a SQLite SMS store, a
// directory of numbers, and deliver_sm as a handset sends them.
#pragma once

#include "connectors/sms/sms_inbound.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "intake/ingest.hpp"
#include "intake/submit_wait.hpp"
#include "queue/group_commit.hpp"
#include "queue/spool.hpp"
#include "store/database.hpp"
#include "tests/unit/temp_dir.hpp"

namespace bh::connectors::inbound_test {
// The suite is called SmsInbound like the class: the class is sms::SmsInbound here.
using namespace sms;

inline const std::string kTenant = "aaaaaaaa-0000-4000-8000-000000000001";
inline const std::string kOtherTenant = "bbbbbbbb-0000-4000-8000-000000000002";

// A directory of numbers by map, which may be down.
class StandInDirectory final : public directory::DirectoryView {
 public:
  std::map<std::string, directory::NumberOwner> numbers;
  std::map<std::string, directory::User> users;
  bool unavailable = false;
  directory::Lookup<directory::User> find_user(std::string_view address) const override {
    if (unavailable) return directory::Lookup<directory::User>::unavailable("down");
    auto it = users.find(std::string(address));
    return it == users.end() ? directory::Lookup<directory::User>::absent()
                             : directory::Lookup<directory::User>::found(it->second);
  }
  directory::Lookup<directory::NumberOwner> find_number(std::string_view e164) const override {
    if (unavailable) return directory::Lookup<directory::NumberOwner>::unavailable("down");
    auto it = numbers.find(std::string(e164));
    return it == numbers.end() ? directory::Lookup<directory::NumberOwner>::absent()
                               : directory::Lookup<directory::NumberOwner>::found(it->second);
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view) const override {
    return directory::Lookup<directory::Tenant>::absent();
  }
};

inline std::shared_ptr<const PolicySet> routes_to(std::vector<std::string> domains) {
  return std::make_shared<const PolicySet>(
      std::vector<Route>{Route{std::move(domains), "exo", ""}}, TrustConfig{}, nullptr,
      std::make_shared<const TransportRules>(),
      std::make_shared<const StampKeys>(StampKeys{std::string(32, 'k'), "", "gw.test"}));
}

// A deliver_sm from a handset: GSM 7-bit text (ASCII letters are the same septets).
inline smpp::ShortMessage sms(const std::string& text, const std::string& to = "4930123456",
                              const std::string& from = "491701234567", std::uint8_t from_ton = 1) {
  smpp::ShortMessage message;
  message.source = {from_ton, static_cast<std::uint8_t>(from_ton == 1 ? 1 : 0), from};
  message.destination = {1, 1, to};
  message.short_message = text;
  return message;
}

// Part `sequence` of `total` with an 8-bit reference in its UDH.
inline smpp::ShortMessage part(int reference, int total, int sequence, const std::string& text,
                               const std::string& from = "491701234567",
                               std::uint8_t from_ton = 1) {
  smpp::ShortMessage message = sms("", "4930123456", from, from_ton);
  message.esm_class = 0x40;
  message.short_message = std::string("\x05\x00\x03", 3) + static_cast<char>(reference) +
                          static_cast<char>(total) + static_cast<char>(sequence) + text;
  return message;
}

struct SmsInbound : ::testing::Test {
  test::TempDir dir{"bh-sms-inbound"};
  bool made = std::filesystem::create_directories(dir / "spool");  // before the commit opens it
  queue::Spool spool{dir / "spool"};
  queue::GroupCommit commit{spool, [](const std::string&) {}};
  boost::asio::io_context io;
  // Ingest answers on the io thread; receive() waits on the test's.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::thread runner;
  PolicyHolder policy{routes_to({"example.com"})};
  int next_id = 0;
  intake::Ingest ingest{policy, commit, [this] { return "SMS" + std::to_string(++next_id); },
                        [] { return std::int64_t{1795000000}; }, io.get_executor()};
  StandInDirectory directory;
  std::unique_ptr<SmsStore> store;
  SmsSettings settings;
  std::unique_ptr<sms::SmsInbound> inbound;

  SmsInbound() {
    EXPECT_TRUE(made);
    EXPECT_TRUE(spool.create_layout());
    commit.start();
    runner = std::thread([this] { io.run(); });
    store::StoreSettings store_settings;
    store_settings.path = (dir / "store.db").string();
    auto database = store::open_database(store_settings);
    EXPECT_TRUE(database) << (database ? "" : database.error().message);
    if (database) {
      auto opened = SmsStore::open(*database);
      EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
      if (opened) store = std::move(*opened);
    }
    settings.name = "sms-test";
    settings.hostname = "gw.test";
    settings.domains = {"sms.example.com"};
    directory.numbers["+4930123456"] = {"+4930123456", kTenant, "anna@example.com", "sms", true};
    directory.numbers["+4930999999"] = {"+4930999999", kTenant, "fax@example.com", "fax", true};
    // Another tenant's fax-only number.
    directory.numbers["+4940777777"] = {"+4940777777", kOtherTenant, "fax@other.example", "fax",
                                        true};
    directory::User catch_all;
    catch_all.address = "sms-inbox@example.com";
    catch_all.tenant = kTenant;
    directory.users[catch_all.address] = catch_all;
    if (store) inbound = std::make_unique<sms::SmsInbound>(settings, ingest, directory, *store);
  }
  ~SmsInbound() override {
    work.reset();
    io.stop();
    runner.join();
    commit.stop();
  }

  // Ingest through a group commit that cannot write (451 4.3.0), on the
  // same store: a node whose queue fails at the wrong moment.
  struct FailingQueue {
    bool made;
    queue::Spool spool;
    queue::GroupCommit commit;
    intake::Ingest ingest;
    sms::SmsInbound inbound;
    FailingQueue(SmsInbound& f)
        : made(std::filesystem::create_directories(f.dir / "spool-failing")),
          spool(f.dir / "spool-failing"),
          commit(spool, [](const std::string&) {}),
          ingest(
              f.policy, commit, [] { return std::string("FAIL"); },
              [] { return std::int64_t{1795000000}; }, f.io.get_executor()),
          inbound(f.settings, ingest, f.directory, *f.store) {
      EXPECT_TRUE(spool.create_layout());
      commit.start();
      commit.stop();
    }
  };

  static std::string message_id(const std::string& content) {
    auto start = content.find("Message-ID: <");
    if (start == std::string::npos) return "";
    start += 13;
    return content.substr(start, content.find('>', start) - start);
  }

  std::optional<std::string> conversation(const std::string& mailbox, const std::string& remote) {
    auto found = store->conversation_number(settings.name, mailbox, remote);
    EXPECT_TRUE(found) << found.error().message;
    return found ? *found : std::nullopt;
  }

  std::vector<queue::QueuedMessage> queued() const {
    std::vector<queue::QueuedMessage> out;
    for (const std::string& id : spool.list(queue::State::incoming)) {
      auto message = spool.load(queue::State::incoming, id);
      EXPECT_TRUE(message) << id << ": " << (message ? "" : message.error().message);
      if (message) out.push_back(std::move(*message));
    }
    return out;
  }
};

}  // namespace bh::connectors::inbound_test
