// Mail -> SMS, the pure part: the number a recipient names, the text split
// into submit_sm bodies, what the SMSC's statuses and receipts mean for the
// recipient, and which number an SMS goes out from (a conversation, the
// mailbox's service number, the default). The SMPP addresses and the
// destination rules: sms_addressing_test.cpp.
#include "connectors/sms/sms_outbound.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "store/database.hpp"
#include "tests/unit/temp_dir.hpp"

namespace bh::connectors::sms {
namespace {

const std::vector<std::string> kDomains = {"sms.example.com", "SMS.Other.Test."};

std::string error_of(const Result<std::string>& result) {
  return result ? "(no error: " + result.value() + ")" : result.error().message;
}

TEST(SmsOutbound, NumbersInEveryFormGiveE164) {
  for (const char* address : {"+491701234567@sms.example.com", "00491701234567@sms.example.com",
                              "01701234567@sms.example.com", "0170-123.4567@SMS.EXAMPLE.COM",
                              "<+491701234567@sms.other.test>", "+491701234567@sms.other.test."}) {
    auto number = number_of_address(address, kDomains, "DE");
    ASSERT_TRUE(number) << address << ": " << number.error().message;
    EXPECT_EQ(*number, "+491701234567") << address;
  }
  // The national form follows the region.
  auto us = number_of_address("2015550123@sms.example.com", kDomains, "US");
  ASSERT_TRUE(us) << us.error().message;
  EXPECT_EQ(*us, "+12015550123");
}

TEST(SmsOutbound, AddressesThatAreNoNumberSayWhy) {
  auto domain = number_of_address("+491701234567@example.com", kDomains, "DE");
  ASSERT_FALSE(domain);
  EXPECT_NE(domain.error().message.find("'example.com' is not one of the SMS domains"),
            std::string::npos)
      << domain.error().message;
  // A subdomain of an SMS domain is not one.
  EXPECT_FALSE(number_of_address("+491701234567@x.sms.example.com", kDomains, "DE"));

  auto letters = number_of_address("anna@sms.example.com", kDomains, "DE");
  ASSERT_FALSE(letters);
  EXPECT_NE(letters.error().message.find("'anna' is not a mobile number"), std::string::npos)
      << error_of(letters);
  EXPECT_FALSE(number_of_address("0170abc@sms.example.com", kDomains, "DE"));
  EXPECT_FALSE(number_of_address("49+170@sms.example.com", kDomains, "DE"));

  auto quoted = number_of_address("\"+491701234567\"@sms.example.com", kDomains, "DE");
  ASSERT_FALSE(quoted);
  EXPECT_NE(quoted.error().message.find("quoted local part"), std::string::npos)
      << error_of(quoted);

  auto short_number = number_of_address("+493@sms.example.com", kDomains, "DE");
  ASSERT_FALSE(short_number);
  EXPECT_NE(short_number.error().message.find("too short"), std::string::npos)
      << error_of(short_number);

  EXPECT_FALSE(number_of_address("@sms.example.com", kDomains, "DE"));
  EXPECT_FALSE(number_of_address("no-at-sign", kDomains, "DE"));
}

std::string mail(const std::string& body, const std::string& subject = "Hello") {
  return "From: <anna@example.com>\r\nTo: <+491701234567@sms.example.com>\r\nSubject: " + subject +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

const PreparedText& prepared(const std::variant<PreparedText, RecipientResult>& result) {
  static const PreparedText none;
  if (auto* bounce = std::get_if<RecipientResult>(&result)) {
    ADD_FAILURE() << "bounced: " << bounce->status << " " << bounce->diagnostic;
    return none;
  }
  return std::get<PreparedText>(result);
}

TEST(SmsOutbound, PreparedTextFitsOneOrMoreParts) {
  SmsSettings settings;
  auto one = prepare_text(mail(std::string(160, 'a')), settings, 7);
  EXPECT_EQ(prepared(one).encoded.alphabet, Alphabet::gsm7);
  EXPECT_EQ(prepared(one).segments.parts.size(), 1u);
  EXPECT_EQ(prepared(one).segments.data_coding, kDataCodingDefault);

  // 161 septets need two parts of at most 153 behind a UDH.
  auto two = prepare_text(mail(std::string(161, 'a')), settings, 7);
  ASSERT_EQ(prepared(two).segments.parts.size(), 2u);
  EXPECT_EQ(prepared(two).segments.parts[0].esm_class & 0x40, 0x40);

  // Cyrillic is not GSM: UCS-2, 70 units in one SMS.
  std::string cyrillic;
  for (int i = 0; i < 70; ++i) cyrillic += "\xD0\x96";  // U+0416
  auto ucs2 = prepare_text(mail(cyrillic), settings, 7);
  EXPECT_EQ(prepared(ucs2).encoded.alphabet, Alphabet::ucs2);
  EXPECT_EQ(prepared(ucs2).segments.data_coding, kDataCodingUcs2);
  EXPECT_EQ(prepared(ucs2).segments.parts.size(), 1u);
}

TEST(SmsOutbound, TooLongAndEmptyMailsBounce) {
  SmsSettings settings;
  settings.max_parts = 2;  // 306 GSM septets
  auto fits = prepare_text(mail(std::string(306, 'a')), settings, 1);
  EXPECT_EQ(prepared(fits).segments.parts.size(), 2u);

  auto too_long = prepare_text(mail(std::string(307, 'a')), settings, 1);
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(too_long));
  const auto& long_bounce = std::get<RecipientResult>(too_long);
  EXPECT_EQ(long_bounce.outcome, Outcome::bounced);
  EXPECT_EQ(long_bounce.status, "5.3.4");
  EXPECT_NE(long_bounce.diagnostic.find("306"), std::string::npos) << long_bounce.diagnostic;
  EXPECT_EQ(long_bounce.diagnostic_type, "smtp");  // our reason, no SMSC said it

  auto empty = prepare_text(mail("\r\n\r\n"), settings, 1);
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(empty));
  const auto& empty_bounce = std::get<RecipientResult>(empty);
  EXPECT_EQ(empty_bounce.outcome, Outcome::bounced);
  EXPECT_EQ(empty_bounce.status, "5.6.0");
  EXPECT_EQ(empty_bounce.diagnostic, "the mail has no text to send as SMS");

  settings.max_message_bytes = 100;
  auto big = prepare_text(mail(std::string(200, 'a')), settings, 1);
  ASSERT_TRUE(std::holds_alternative<RecipientResult>(big));
  EXPECT_EQ(std::get<RecipientResult>(big).status, "5.3.4");
}

TEST(SmsOutbound, SubmitPdusCarryTheSettingsAndTheSegments) {
  SmsSettings settings;
  settings.validity_period = "000001000000000R";
  settings.long_messages = LongMessages::sar;
  auto text = prepare_text(mail(std::string(200, 'b')), settings, 0x1234);
  auto source = source_address_of("Bridgehead");
  ASSERT_TRUE(source);
  auto pdus = submit_pdus(prepared(text), *source, "+491701234567", settings);
  ASSERT_EQ(pdus.size(), 2u);
  for (std::size_t i = 0; i < pdus.size(); ++i) {
    const smpp::ShortMessage& pdu = pdus[i];
    EXPECT_EQ(pdu.source.ton, 5);
    EXPECT_EQ(pdu.source.address, "Bridgehead");
    EXPECT_EQ(pdu.destination.ton, 1);
    EXPECT_EQ(pdu.destination.npi, 1);
    EXPECT_EQ(pdu.destination.address, "491701234567");
    EXPECT_EQ(pdu.registered_delivery, 1);
    EXPECT_EQ(pdu.validity_period, "000001000000000R");
    EXPECT_EQ(pdu.data_coding, kDataCodingDefault);
    EXPECT_EQ(pdu.esm_class, prepared(text).segments.parts[i].esm_class);
    EXPECT_EQ(pdu.short_message, prepared(text).segments.parts[i].short_message);
    const smpp::Tlv* seqnum = smpp::find_tlv(pdu.tlvs, smpp::tlv::sar_segment_seqnum);
    ASSERT_NE(seqnum, nullptr);
    EXPECT_EQ(seqnum->value, std::string(1, static_cast<char>(i + 1)));
  }
  settings.request_receipts = false;
  EXPECT_EQ(submit_pdus(prepared(text), *source, "+491701234567", settings)[0].registered_delivery,
            0);
}

TEST(SmsOutbound, SubmitStatusesMapToRecipientResults) {
  EXPECT_TRUE(is_throttling(smpp::status::throttled));
  EXPECT_TRUE(is_throttling(smpp::status::message_queue_full));
  EXPECT_FALSE(is_throttling(smpp::status::system_error));
  EXPECT_FALSE(is_throttling(smpp::status::ok));

  RecipientResult dest = submit_failure(smpp::status::invalid_dest_address, 2, 3, "smsc.test");
  EXPECT_EQ(dest.outcome, Outcome::bounced);
  EXPECT_EQ(dest.status, "5.1.1");
  EXPECT_EQ(dest.diagnostic, "SMSC refused part 2 of 3: ESME_RINVDSTADR (0x0000000b)");
  EXPECT_EQ(dest.diagnostic_type, "x-smpp");
  EXPECT_EQ(dest.remote_mta, "smsc.test");

  RecipientResult source = submit_failure(smpp::status::invalid_source_address, 1, 1, "smsc.test");
  EXPECT_EQ(source.outcome, Outcome::bounced);
  EXPECT_EQ(source.status, "5.7.1");
  EXPECT_EQ(source.diagnostic.rfind("SMSC refused the SMS: ESME_RINVSRCADR", 0), 0u)
      << source.diagnostic;
  EXPECT_EQ(submit_failure(smpp::status::invalid_message_length, 1, 1, "s").status, "5.3.4");
  RecipientResult esm = submit_failure(smpp::status::invalid_esm_class, 1, 1, "s");
  EXPECT_EQ(esm.outcome, Outcome::bounced);
  EXPECT_EQ(esm.status, "5.0.0");

  for (std::uint32_t status : {smpp::status::system_error, smpp::status::submit_failed,
                               smpp::status::temporary_app_error, std::uint32_t{0x0123}}) {
    RecipientResult transient = submit_failure(status, 1, 2, "s");
    EXPECT_EQ(transient.outcome, Outcome::deferred) << status;
    EXPECT_EQ(transient.status, "4.4.2") << status;
    EXPECT_EQ(transient.diagnostic_type, "x-smpp");
  }
}

Settlement delivered(int parts) {
  Settlement s;
  s.reference = "ref";
  s.delivered = true;
  s.parts = parts;
  return s;
}

Settlement failed(ReceiptState state, int part, int parts, std::string error = "001") {
  Settlement s;
  s.reference = "ref";
  s.delivered = false;
  s.parts = parts;
  s.failed_part = part;
  s.failure.message_id = "m1";
  s.failure.state = state;
  s.failure.error = std::move(error);
  return s;
}

TEST(SmsOutbound, ReceiptsMapToFinalResults) {
  SmsSettings settings;
  settings.binds.push_back(BindSettings{});
  settings.binds[0].host = "smsc.example.net";
  RecipientResult ok = receipt_result(delivered(2), settings, "+491701234567");
  EXPECT_EQ(ok.outcome, Outcome::delivered);
  EXPECT_EQ(ok.status, "2.0.0");
  EXPECT_EQ(ok.success_action, "delivered");
  EXPECT_FALSE(ok.report);  // success_notice dsn: only with NOTIFY=SUCCESS
  EXPECT_EQ(ok.diagnostic, "SMS to +49 170 1234567 was delivered (2 parts)");
  EXPECT_EQ(ok.diagnostic_type, "x-smpp");
  EXPECT_EQ(ok.remote_mta, "smsc.example.net");
  EXPECT_EQ(receipt_result(delivered(1), settings, "+491701234567").diagnostic,
            "SMS to +49 170 1234567 was delivered");
  settings.success_notice = SuccessNotice::report;
  EXPECT_TRUE(receipt_result(delivered(1), settings, "+491701234567").report);

  RecipientResult undeliv =
      receipt_result(failed(ReceiptState::undeliverable, 2, 3), settings, "+491701234567");
  EXPECT_EQ(undeliv.outcome, Outcome::bounced);
  EXPECT_EQ(undeliv.status, "5.4.0");
  EXPECT_EQ(undeliv.diagnostic, "SMSC reports part 2 of 3: stat:UNDELIV err:001");
  EXPECT_EQ(undeliv.diagnostic_type, "x-smpp");
  EXPECT_FALSE(undeliv.report);
  EXPECT_EQ(receipt_result(failed(ReceiptState::expired, 1, 1, ""), settings, "+1").diagnostic,
            "SMSC reports stat:EXPIRED");

  const std::pair<ReceiptState, const char*> statuses[] = {{ReceiptState::expired, "5.4.7"},
                                                           {ReceiptState::rejected, "5.7.1"},
                                                           {ReceiptState::undeliverable, "5.4.0"},
                                                           {ReceiptState::deleted, "5.3.0"},
                                                           {ReceiptState::unknown, "5.4.0"}};
  for (const auto& [state, status] : statuses)
    EXPECT_EQ(receipt_result(failed(state, 1, 1), settings, "+491701234567").status, status)
        << state_text(state);

  // What the SMSC wrote is made printable for the DSN and the log.
  RecipientResult odd =
      receipt_result(failed(ReceiptState::rejected, 1, 1, "0\r\n1"), settings, "+491701234567");
  EXPECT_EQ(odd.diagnostic.find('\r'), std::string::npos) << odd.diagnostic;
}

// A directory whose users, numbers and service numbers answer by map.
class ServiceNumbers final : public directory::DirectoryView {
 public:
  std::map<std::string, std::vector<directory::NumberOwner>> numbers;  // by mailbox
  std::map<std::string, directory::User> users;                        // by address or alias
  bool unavailable = false;
  directory::Lookup<directory::User> find_user(std::string_view address) const override {
    using L = directory::Lookup<directory::User>;
    if (unavailable) return L::unavailable("down");
    auto it = users.find(std::string(address));
    return it == users.end() ? L::absent() : L::found(it->second);
  }
  // Whoever's service numbers hold it.
  directory::Lookup<directory::NumberOwner> find_number(std::string_view e164) const override {
    using L = directory::Lookup<directory::NumberOwner>;
    if (unavailable) return L::unavailable("down");
    for (const auto& [mailbox, owned] : numbers)
      for (const directory::NumberOwner& owner : owned)
        if (owner.number == e164) return L::found(owner);
    return L::absent();
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view) const override {
    return directory::Lookup<directory::Tenant>::absent();
  }
  directory::Lookup<std::vector<directory::NumberOwner>> service_numbers_of(
      std::string_view mailbox) const override {
    using L = directory::Lookup<std::vector<directory::NumberOwner>>;
    if (unavailable) return L::unavailable("down");
    auto it = numbers.find(std::string(mailbox));
    return it == numbers.end() ? L::absent() : L::found(it->second);
  }
};

struct StoreInTempDir {
  test::TempDir dir{"bh-sms-outbound"};
  std::unique_ptr<SmsStore> store;
  StoreInTempDir() {
    store::StoreSettings settings;
    settings.path = (dir / "store.db").string();
    auto database = store::open_database(settings);
    EXPECT_TRUE(database) << (database ? "" : database.error().message);
    if (!database) return;
    auto opened = SmsStore::open(*database);
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
    if (opened) store = std::move(*opened);
  }
};

TEST(SmsOutbound, SourceIsTheConversationThenTheServiceNumberThenTheDefault) {
  StoreInTempDir s;
  ASSERT_TRUE(s.store);
  ServiceNumbers directory;
  SmsSettings settings;
  settings.name = "sms";
  settings.source_address = "Bridgehead";
  const std::string anna = "anna@example.com";
  const std::string remote = "+491701234567";

  auto fallback = choose_source(*s.store, directory, anna, remote, settings);
  ASSERT_TRUE(fallback) << fallback.error().message;
  EXPECT_EQ(*fallback, "Bridgehead");

  // Only a number for SMS (or for both) is a sender; the first of those.
  directory.numbers[anna] = {{"+4930111", "t", anna, "fax", true},
                             {"+4930222", "t", anna, "sms", true},
                             {"+4930333", "t", anna, "", true}};
  auto service = choose_source(*s.store, directory, "Anna@Example.com", remote, settings);
  ASSERT_TRUE(service) << service.error().message;
  EXPECT_EQ(*service, "+4930222");
  directory.numbers[anna] = {{"+4930111", "t", anna, "fax", true}};
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, settings), "Bridgehead");
  directory.numbers[anna] = {{"+4930333", "t", anna, "", true}, {"+4930444", "t", anna, "", true}};
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, settings), "+4930333");

  // The number the last SMS from the remote came in on wins.
  ASSERT_TRUE(s.store->remember_conversation("sms", anna, remote, "+4930444", 1795000000));
  auto conversation = choose_source(*s.store, directory, anna, remote, settings);
  ASSERT_TRUE(conversation) << conversation.error().message;
  EXPECT_EQ(*conversation, "+4930444");
  // Another remote has no conversation; another connector's are not this one's.
  EXPECT_EQ(*choose_source(*s.store, directory, anna, "+491709999999", settings), "+4930333");
  SmsSettings other = settings;
  other.name = "sms-other";
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, other), "+4930333");

  directory.unavailable = true;
  auto down = choose_source(*s.store, directory, anna, "+491709999999", settings);
  ASSERT_FALSE(down);
  EXPECT_NE(down.error().message.find("directory is unavailable"), std::string::npos);
  // A conversation's number is checked against the directory too.
  auto unchecked = choose_source(*s.store, directory, anna, remote, settings);
  ASSERT_FALSE(unchecked);
  EXPECT_NE(unchecked.error().message.find("directory is unavailable"), std::string::npos);
}

// A conversation's number that is no longer the mailbox's for SMS (it moved
// to another tenant's mailbox, or is for fax only now) is never its sender.
TEST(SmsOutbound, AConversationNumberOfAnotherTenantIsNotUsed) {
  StoreInTempDir s;
  ASSERT_TRUE(s.store);
  ServiceNumbers directory;
  SmsSettings settings;
  settings.name = "sms";
  settings.source_address = "Bridgehead";
  const std::string anna = "anna@a.example";
  const std::string remote = "+491701234567";
  directory.numbers[anna] = {{"+4930111", "tenant-a", anna, "sms", true}};
  ASSERT_TRUE(s.store->remember_conversation("sms", anna, remote, "+4940222", 1795000000));
  // Tenant B's number.
  directory.numbers["bob@b.example"] = {{"+4940222", "tenant-b", "bob@b.example", "", true}};
  auto source = choose_source(*s.store, directory, anna, remote, settings);
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ(*source, "+4930111");
  // Nobody's number any more.
  directory.numbers.erase("bob@b.example");
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, settings), "+4930111");
  // Anna's, but for fax only.
  directory.numbers[anna].push_back({"+4940222", "tenant-a", anna, "fax", true});
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, settings), "+4930111");
  // Anna's for SMS: the conversation holds.
  directory.numbers[anna].back().service = "sms";
  EXPECT_EQ(*choose_source(*s.store, directory, anna, remote, settings), "+4940222");
}

// An alias's mail sends as its user: the primary address's conversations
// and numbers.
TEST(SmsOutbound, AnAliasSendsFromItsUsersNumbers) {
  StoreInTempDir s;
  ASSERT_TRUE(s.store);
  ServiceNumbers directory;
  SmsSettings settings;
  settings.name = "sms";
  settings.source_address = "Bridgehead";
  const std::string anna = "anna@example.com";
  const std::string remote = "+491701234567";
  directory::User user;
  user.address = anna;
  user.aliases = {"a.nna@example.com"};
  directory.users[anna] = user;
  directory.users["a.nna@example.com"] = user;
  directory.numbers[anna] = {{"+4930111", "t", anna, "sms", true},
                             {"+4930222", "t", anna, "sms", true}};
  auto service = choose_source(*s.store, directory, "a.nna@example.com", remote, settings);
  ASSERT_TRUE(service) << service.error().message;
  EXPECT_EQ(*service, "+4930111");
  ASSERT_TRUE(s.store->remember_conversation("sms", anna, remote, "+4930222", 1795000000));
  EXPECT_EQ(*choose_source(*s.store, directory, "a.nna@example.com", remote, settings), "+4930222");
}

}  // namespace
}  // namespace bh::connectors::sms
