// SMS -> mail through a real intake (routing, the group commit, a spool on
// disk) and a SQLite SMS store: the mailbox a number belongs to, the
// catch-all, parts of a concatenated SMS in any order, parts that never
// came, and the answers the SMSC gets when something is unavailable or
// refused.
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

namespace bh::connectors {
namespace {
// The suite is called SmsInbound like the class: the class is sms::SmsInbound here.
using namespace sms;

const std::string kTenant = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kOtherTenant = "bbbbbbbb-0000-4000-8000-000000000002";

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

std::shared_ptr<const PolicySet> routes_to(std::vector<std::string> domains) {
  return std::make_shared<const PolicySet>(
      std::vector<Route>{Route{std::move(domains), "exo", ""}}, TrustConfig{}, nullptr,
      std::make_shared<const TransportRules>(),
      std::make_shared<const StampKeys>(StampKeys{std::string(32, 'k'), "", "gw.test"}));
}

// A deliver_sm from a handset: GSM 7-bit text (ASCII letters are the same septets).
smpp::ShortMessage sms(const std::string& text, const std::string& to = "4930123456",
                       const std::string& from = "491701234567", std::uint8_t from_ton = 1) {
  smpp::ShortMessage message;
  message.source = {from_ton, static_cast<std::uint8_t>(from_ton == 1 ? 1 : 0), from};
  message.destination = {1, 1, to};
  message.short_message = text;
  return message;
}

// Part `sequence` of `total` with an 8-bit reference in its UDH.
smpp::ShortMessage part(int reference, int total, int sequence, const std::string& text,
                        const std::string& from = "491701234567", std::uint8_t from_ton = 1) {
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

TEST_F(SmsInbound, ASingleSmsBecomesAMailToTheNumbersOwner) {
  ASSERT_TRUE(inbound);
  InboundAnswer answer = inbound->receive(sms("Hello Anna"), 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.smpp_status, smpp::status::ok);
  EXPECT_EQ(answer.mailbox, "anna@example.com");
  EXPECT_FALSE(answer.queue_id.empty());

  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  const queue::QueuedMessage& mail = mails[0];
  EXPECT_EQ(mail.envelope.queue_id, answer.queue_id);
  ASSERT_EQ(mail.envelope.recipients.size(), 1u);
  EXPECT_EQ(mail.envelope.recipients[0].address.text(), "anna@example.com");
  EXPECT_EQ(mail.envelope.sender.text(), "postmaster@gw.test");
  EXPECT_EQ(mail.envelope.tenant, kTenant);
  EXPECT_NE(mail.content.find("+491701234567@sms.example.com"), std::string::npos) << mail.content;
  EXPECT_NE(mail.content.find("Hello Anna"), std::string::npos) << mail.content;

  // A reply from anna goes out from the number the SMS came in on.
  EXPECT_EQ(conversation("anna@example.com", "+491701234567"), "+4930123456");
}

TEST_F(SmsInbound, AnUnknownNumberIsRefusedWithoutACatchAll) {
  ASSERT_TRUE(inbound);
  InboundAnswer unknown = inbound->receive(sms("who?", "4930555555"), 1795000000);
  EXPECT_EQ(unknown.status, InboundStatus::refused);
  EXPECT_EQ(unknown.smpp_status, smpp::status::invalid_dest_address);
  EXPECT_NE(unknown.reason.find("+4930555555"), std::string::npos) << unknown.reason;
  // A fax-only number is no SMS number either.
  EXPECT_EQ(inbound->receive(sms("fax?", "4930999999"), 1795000000).smpp_status,
            smpp::status::invalid_dest_address);
  EXPECT_TRUE(queued().empty());
}

TEST_F(SmsInbound, TheCatchAllTakesOnlyNumbersNobodyOwns) {
  ASSERT_TRUE(inbound);
  settings.inbound.catch_all = "sms-inbox@example.com";
  InboundAnswer answer = inbound->receive(sms("to nobody", "4930555555"), 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.mailbox, "sms-inbox@example.com");
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope.recipients[0].address.text(), "sms-inbox@example.com");
  EXPECT_EQ(mails[0].envelope.tenant, kTenant);
  // The number is nobody's: no conversation makes a reply come from it.
  EXPECT_FALSE(conversation("sms-inbox@example.com", "+491701234567"));
}

// A number the directory knows is never the catch-all's: a fax-only number
// (here another tenant's) is refused, and nothing is mailed or remembered.
TEST_F(SmsInbound, AFaxOnlyNumberIsRefusedEvenWithACatchAll) {
  ASSERT_TRUE(inbound);
  settings.inbound.catch_all = "sms-inbox@example.com";
  for (const char* number : {"4940777777", "4930999999"}) {
    InboundAnswer answer = inbound->receive(sms("fax?", number), 1795000000);
    EXPECT_EQ(answer.status, InboundStatus::refused) << number;
    EXPECT_EQ(answer.smpp_status, smpp::status::invalid_dest_address) << number;
    EXPECT_NE(answer.reason.find("fax only"), std::string::npos) << answer.reason;
  }
  EXPECT_TRUE(queued().empty());
  EXPECT_FALSE(conversation("sms-inbox@example.com", "+491701234567"));
}

TEST_F(SmsInbound, PartsInAnyOrderBecomeOneMail) {
  ASSERT_TRUE(inbound);
  InboundAnswer third = inbound->receive(part(42, 3, 3, "three"), 1795000000);
  EXPECT_EQ(third.status, InboundStatus::part_kept) << third.reason;
  EXPECT_EQ(third.smpp_status, smpp::status::ok);
  EXPECT_TRUE(queued().empty());
  // The SMSC sends a part again when our answer was lost: nothing changes.
  EXPECT_EQ(inbound->receive(part(42, 3, 3, "three"), 1795000001).status, InboundStatus::part_kept);
  EXPECT_EQ(inbound->receive(part(42, 3, 1, "one "), 1795000002).status, InboundStatus::part_kept);
  InboundAnswer last = inbound->receive(part(42, 3, 2, "two "), 1795000003);
  ASSERT_EQ(last.status, InboundStatus::queued) << last.reason;
  EXPECT_EQ(last.smpp_status, smpp::status::ok);

  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("one two three"), std::string::npos) << mails[0].content;
  // Mailed: the parts are gone from the store.
  auto left = store->expired_inbound(settings.name, 1795999999);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_TRUE(left->empty());
}

TEST_F(SmsInbound, AnExpiredMessageIsMailedWithWhatCame) {
  ASSERT_TRUE(inbound);
  settings.inbound.reassembly_timeout = std::chrono::seconds(600);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(7, 3, 1, "first "), t0).status, InboundStatus::part_kept);
  ASSERT_EQ(inbound->receive(part(7, 3, 3, "third"), t0 + 5).status, InboundStatus::part_kept);
  inbound->flush_expired(t0 + 599);
  EXPECT_TRUE(queued().empty());

  inbound->flush_expired(t0 + 601);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope.recipients[0].address.text(), "anna@example.com");
  EXPECT_NE(mails[0].content.find("first third"), std::string::npos) << mails[0].content;
  EXPECT_NE(mails[0].content.find("Part 2 of 3 did not arrive"), std::string::npos)
      << mails[0].content;
  EXPECT_NE(mails[0].content.find("+491701234567@sms.example.com"), std::string::npos);
  auto left = store->expired_inbound(settings.name, t0 + 10000);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_TRUE(left->empty());
  // Nothing is mailed twice.
  inbound->flush_expired(t0 + 1200);
  EXPECT_EQ(queued().size(), 1u);
}

TEST_F(SmsInbound, AnUnavailableDirectoryAsksTheSmscToTryAgain) {
  ASSERT_TRUE(inbound);
  directory.unavailable = true;
  InboundAnswer answer = inbound->receive(sms("later"), 1795000000);
  EXPECT_EQ(answer.status, InboundStatus::unavailable);
  EXPECT_EQ(answer.smpp_status, smpp::status::temporary_app_error);
  EXPECT_NE(answer.reason.find("directory is unavailable"), std::string::npos) << answer.reason;
  // Not even a part is kept: the SMSC sends it again.
  EXPECT_EQ(inbound->receive(part(9, 2, 1, "a"), 1795000000).status, InboundStatus::unavailable);
  directory.unavailable = false;
  auto left = store->expired_inbound(settings.name, 1795999999);
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  EXPECT_TRUE(queued().empty());
}

TEST_F(SmsInbound, AQueueThatCannotWriteAsksTheSmscToTryAgain) {
  ASSERT_TRUE(inbound);
  ASSERT_EQ(inbound->receive(part(5, 2, 1, "kept "), 1795000000).status, InboundStatus::part_kept);
  commit.stop();  // later submissions fail: 451 4.3.0
  InboundAnswer single = inbound->receive(sms("not now"), 1795000000);
  EXPECT_EQ(single.status, InboundStatus::unavailable);
  EXPECT_EQ(single.smpp_status, smpp::status::temporary_app_error);
  EXPECT_NE(single.reason.find("451"), std::string::npos) << single.reason;
  InboundAnswer last = inbound->receive(part(5, 2, 2, "then"), 1795000001);
  EXPECT_EQ(last.status, InboundStatus::unavailable);
  EXPECT_EQ(last.smpp_status, smpp::status::temporary_app_error);
  // The parts stay: when the SMSC sends the last one again, the message is whole.
  InboundPart again;
  again.source = "+491701234567";
  again.destination = "+4930123456";
  again.reference = 5;
  again.total = 2;
  again.sequence = 2;
  again.text = "then";
  again.received_at = 1795000002;
  auto whole = store->add_inbound_part(settings.name, again);
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_EQ(whole->outcome, InboundAdd::complete);
  EXPECT_EQ(whole->message.parts.size(), 2u);
  // No conversation for an SMS that was not queued.
  EXPECT_FALSE(conversation("anna@example.com", "+491701234567"));
}

// The last part came, its mail could not be queued, and the SMSC does not
// send it again: the sweep mails the whole message.
TEST_F(SmsInbound, ACompleteMessageWhoseMailFailedIsMailedByTheSweep) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(11, 2, 1, "acknowledged "), t0).status, InboundStatus::part_kept);
  FailingQueue failing(*this);
  InboundAnswer last = failing.inbound.receive(part(11, 2, 2, "and lost?"), t0 + 1);
  ASSERT_EQ(last.status, InboundStatus::unavailable) << last.reason;
  inbound->flush_expired(t0 + 601);  // part 2 is not that old yet
  EXPECT_TRUE(queued().empty());
  inbound->flush_expired(t0 + 602);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("acknowledged and lost?"), std::string::npos) << mails[0].content;
  EXPECT_EQ(mails[0].content.find("did not arrive"), std::string::npos) << mails[0].content;
  inbound->flush_expired(t0 + 1200);
  EXPECT_EQ(queued().size(), 1u);
  // Its parts are seen now: the SMSC sending the last one after all mails nothing.
  InboundAnswer late = inbound->receive(part(11, 2, 2, "and lost?"), t0 + 1300);
  EXPECT_EQ(late.status, InboundStatus::duplicate) << late.reason;
  EXPECT_EQ(late.smpp_status, smpp::status::ok);
  inbound->flush_expired(t0 + 5000);
  EXPECT_EQ(queued().size(), 1u);
}

// The SMSC did not hear our ok in time and sends the SMS again: ok, and no
// second mail. After inbound_duplicate_window the same text is a new SMS
// (a second "ok"), with a Message-ID of its own.
TEST_F(SmsInbound, AnSmsDeliveredAgainIsMailedOnce) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(sms("once"), t0).status, InboundStatus::queued);
  InboundAnswer again = inbound->receive(sms("once"), t0 + 12);
  EXPECT_EQ(again.status, InboundStatus::duplicate) << again.reason;
  EXPECT_EQ(again.smpp_status, smpp::status::ok);
  EXPECT_EQ(queued().size(), 1u);
  // Another text, sender or number is another SMS.
  ASSERT_EQ(inbound->receive(sms("twice"), t0 + 13).status, InboundStatus::queued);
  ASSERT_EQ(inbound->receive(sms("once", "4930123456", "491709999999"), t0 + 14).status,
            InboundStatus::queued);
  EXPECT_EQ(queued().size(), 3u);

  const std::int64_t window = SmsSettings{}.inbound.duplicate_window.count();
  ASSERT_EQ(inbound->receive(sms("once"), t0 + window + 1).status, InboundStatus::queued);
  std::map<std::string, int> ids;
  for (const auto& mail : queued()) ++ids[message_id(mail.content)];
  EXPECT_EQ(ids.size(), 4u);  // the later "once" is not dropped as a copy by the mailbox
}

// Not queued, not seen: the SMSC's next try makes the mail.
TEST_F(SmsInbound, AnSmsWhoseMailFailedIsNotTakenForACopy) {
  ASSERT_TRUE(inbound);
  FailingQueue failing(*this);
  EXPECT_EQ(failing.inbound.receive(sms("retry me"), 1795000000).status,
            InboundStatus::unavailable);
  EXPECT_EQ(inbound->receive(sms("retry me"), 1795000010).status, InboundStatus::queued);
  EXPECT_EQ(queued().size(), 1u);
}

// A part sent again after its message was mailed starts no new message.
TEST_F(SmsInbound, APartDeliveredAgainAfterItsMailIsADuplicate) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(3, 2, 1, "one "), t0).status, InboundStatus::part_kept);
  ASSERT_EQ(inbound->receive(part(3, 2, 2, "two"), t0 + 1).status, InboundStatus::queued);
  EXPECT_EQ(inbound->receive(part(3, 2, 1, "one "), t0 + 30).status, InboundStatus::duplicate);
  inbound->flush_expired(t0 + 5000);
  EXPECT_EQ(queued().size(), 1u);
}

// The phone reused a reference while an older message with it waited for
// a part: the older one goes out with what came, the new one starts.
TEST_F(SmsInbound, AReusedReferenceDoesNotMixTwoMessages) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(77, 2, 1, "old start "), t0).status, InboundStatus::part_kept);
  InboundAnswer reused = inbound->receive(part(77, 2, 1, "new start "), t0 + 60);
  ASSERT_EQ(reused.status, InboundStatus::part_kept) << reused.reason;
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("old start"), std::string::npos) << mails[0].content;
  EXPECT_NE(mails[0].content.find("Part 2 of 2 did not arrive"), std::string::npos);
  EXPECT_EQ(mails[0].content.find("new start"), std::string::npos) << mails[0].content;
  ASSERT_EQ(inbound->receive(part(77, 2, 2, "new end"), t0 + 61).status, InboundStatus::queued);
  mails = queued();
  ASSERT_EQ(mails.size(), 2u);
  int whole = 0;
  for (const auto& mail : mails)
    if (mail.content.find("new start new end") != std::string::npos) ++whole;
  EXPECT_EQ(whole, 1);
}

// An alphanumeric sender that looks like a number stays one after the
// parts timed out: no reply address.
TEST_F(SmsInbound, AnExpiredMessageKeepsItsAlphanumericSender) {
  ASSERT_TRUE(inbound);
  const std::int64_t t0 = 1795000000;
  ASSERT_EQ(inbound->receive(part(8, 2, 1, "code 1234", "+491701234567", 5), t0).status,
            InboundStatus::part_kept);
  inbound->flush_expired(t0 + 601);
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("no-reply@sms.example.com"), std::string::npos)
      << mails[0].content;
  EXPECT_EQ(mails[0].content.find("+491701234567@"), std::string::npos) << mails[0].content;
  EXPECT_FALSE(conversation("anna@example.com", "+491701234567"));
}

// The bounded wait: no answer (the executor does not run) or a stop.
TEST_F(SmsInbound, SubmitAndWaitGivesUp) {
  boost::asio::io_context idle;  // never run: the answer never comes
  intake::Ingest stuck{policy, commit, [] { return std::string("X"); },
                       [] { return std::int64_t{1}; }, idle.get_executor()};
  std::atomic<bool> stopping{false};
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(intake::submit_and_wait(stuck, intake::Submission{}, std::chrono::milliseconds(300),
                                       stopping));
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(3));
  stopping = true;
  started = std::chrono::steady_clock::now();
  EXPECT_FALSE(
      intake::submit_and_wait(stuck, intake::Submission{}, std::chrono::seconds(30), stopping));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(SmsInbound, AnAlphanumericSenderGetsNoReplyAddress) {
  ASSERT_TRUE(inbound);
  InboundAnswer answer = inbound->receive(sms("Your code 1234", "4930123456", "MyBank", 5), 1);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  auto mails = queued();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].content.find("no-reply@"), std::string::npos) << mails[0].content;
  EXPECT_EQ(mails[0].content.find("MyBank@"), std::string::npos) << mails[0].content;
  // Nobody can text it back: no conversation.
  EXPECT_FALSE(conversation("anna@example.com", "MyBank"));
}

TEST_F(SmsInbound, ANationalDestinationIsReadWithTheRegion) {
  ASSERT_TRUE(inbound);
  smpp::ShortMessage national = sms("national");
  national.destination = {2, 1, "030123456"};  // TON 2: national
  InboundAnswer answer = inbound->receive(national, 1795000000);
  ASSERT_EQ(answer.status, InboundStatus::queued) << answer.reason;
  EXPECT_EQ(answer.mailbox, "anna@example.com");
  smpp::ShortMessage bad = sms("bad");
  bad.destination = {1, 1, "49abc"};
  EXPECT_EQ(inbound->receive(bad, 1795000000).smpp_status, smpp::status::invalid_dest_address);
}

TEST_F(SmsInbound, BinaryDataAndRefusedMailsAreRefused) {
  ASSERT_TRUE(inbound);
  smpp::ShortMessage binary = sms(std::string("\x01\x02\x03", 3));
  binary.data_coding = 0x04;
  InboundAnswer data = inbound->receive(binary, 1795000000);
  EXPECT_EQ(data.status, InboundStatus::refused);
  EXPECT_EQ(data.smpp_status, smpp::status::permanent_app_error);

  // The intake refuses a mailbox no route takes: 5xx, the SMSC gives up.
  settings.inbound.catch_all = "someone@elsewhere.test";
  InboundAnswer unroutable = inbound->receive(sms("x", "4930555555"), 1795000000);
  EXPECT_EQ(unroutable.status, InboundStatus::refused);
  EXPECT_EQ(unroutable.smpp_status, smpp::status::permanent_app_error);
  EXPECT_NE(unroutable.reason.find("550"), std::string::npos) << unroutable.reason;

  inbound->stop();
  EXPECT_EQ(inbound->receive(sms("stopping"), 1795000000).smpp_status,
            smpp::status::temporary_app_error);
  EXPECT_TRUE(queued().empty());
}

}  // namespace
}  // namespace bh::connectors
