// Fax -> mail without trusting the ingest folder's writer: files are read
// without following links and only when they have one link, rejected/ must
// be the gateway's, the tenant a fax is for is checked at the lookup that
// chooses its mailbox, and the Message-ID comes from the fax itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "connectors/fax/fax_ingest.hpp"
#include "connectors/fax/ingest_files.hpp"
#include "connectors/fax/ingest_folder.hpp"
#include "tests/unit/temp_dir.hpp"
#include "util/files.hpp"

namespace bh::connectors::fax {
namespace {
namespace fs = std::filesystem;

class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("bh-fax-files") {}
};

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string path_of(const fs::path& p) {
  return p.string();
}

TEST(FaxIngestFiles, ReadsARegularFileWithOneLink) {
  TempDir dir;
  const std::string tiff("II*\0abcd", 8);
  write(dir.path() / "a.tif", tiff);
  auto read = read_untrusted_file(AT_FDCWD, path_of(dir.path() / "a.tif"), 100);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->bytes, tiff);
  EXPECT_GT(read->modified_at, 0);
}

TEST(FaxIngestFiles, RefusesASymlinkAHardLinkAndAFileTooLarge) {
  TempDir dir;
  write(dir.path() / "secret.tif", "another tenant's fax");
  fs::create_symlink(dir.path() / "secret.tif", dir.path() / "link.tif");
  auto via_symlink = read_untrusted_file(AT_FDCWD, path_of(dir.path() / "link.tif"), 1000);
  ASSERT_FALSE(via_symlink);
  EXPECT_NE(via_symlink.error().message.find("symbolic link"), std::string::npos);
  EXPECT_FALSE(via_symlink.error().code);  // permanent, not tried again

  fs::create_hard_link(dir.path() / "secret.tif", dir.path() / "hard.tif");
  auto via_hard_link = read_untrusted_file(AT_FDCWD, path_of(dir.path() / "hard.tif"), 1000);
  ASSERT_FALSE(via_hard_link);
  EXPECT_NE(via_hard_link.error().message.find("2 links"), std::string::npos)
      << via_hard_link.error().message;

  write(dir.path() / "big.tif", std::string(101, 'x'));
  auto too_large = read_untrusted_file(AT_FDCWD, path_of(dir.path() / "big.tif"), 100);
  ASSERT_FALSE(too_large);
  EXPECT_NE(too_large.error().message.find("larger than 100"), std::string::npos);

  ::mkfifo((dir.path() / "fifo.tif").c_str(), 0600);
  auto fifo = read_untrusted_file(AT_FDCWD, path_of(dir.path() / "fifo.tif"), 100);
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos);
}

TEST(FaxIngestFiles, RejectedIsTheGatewaysOwnDirectory) {
  TempDir dir;
  UniqueFd folder(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(folder.valid());
  auto made = open_own_directory(folder.get(), "rejected");
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(fs::status(dir.path() / "rejected").permissions() & fs::perms::all,
            fs::perms::owner_all);

  TempDir elsewhere;
  fs::create_directory_symlink(elsewhere.path(), dir.path() / "planted");
  auto planted = open_own_directory(folder.get(), "planted");
  ASSERT_FALSE(planted);
  EXPECT_NE(planted.error().message.find("not a directory"), std::string::npos);

  fs::create_directory(dir.path() / "open");
  fs::permissions(dir.path() / "open", fs::perms::all);
  auto open = open_own_directory(folder.get(), "open");
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("writable by others"), std::string::npos);
}

TEST(FaxIngestFiles, CreatesExclusivelyAndMovesWithoutReplacing) {
  TempDir dir;
  UniqueFd folder(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  write(dir.path() / "target", "keep");
  fs::create_symlink(dir.path() / "target", dir.path() / "link.reason");
  EXPECT_FALSE(create_file_exclusively(folder.get(), "link.reason", "overwritten", 0600));
  EXPECT_EQ(*read_whole_file(dir.path() / "target"), "keep");
  ASSERT_TRUE(create_file_exclusively(folder.get(), "new.reason", "why\n", 0600));
  EXPECT_EQ(*read_whole_file(dir.path() / "new.reason"), "why\n");

  write(dir.path() / "a", "a");
  Status moved = move_without_replacing(folder.get(), "a", folder.get(), "target");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, std::errc::file_exists);
  EXPECT_EQ(*read_whole_file(dir.path() / "target"), "keep");
}

TEST(FaxIngestFiles, DropsAPairTheFolderReadsBack) {
  TempDir dir;
  ReceivedFax job;
  job.called = "+4930654321";
  job.caller = "030123456";
  job.received_at = 1764633600;
  job.expected_tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
  const std::string tiff("II*\0fax!", 8);
  auto name = drop_fax_into(dir.path(), tiff, job);
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_TRUE(name->starts_with("fax-1764633600-"));
  EXPECT_EQ(*read_whole_file(dir.path() / (*name + ".tif")), tiff);
  auto parsed = parse_fax_job(*read_whole_file(dir.path() / (*name + ".json")));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->called, job.called);
  EXPECT_EQ(parsed->expected_tenant, job.expected_tenant);
  EXPECT_EQ(parsed->received_at, job.received_at);
  EXPECT_FALSE(parse_fax_job(R"({"called": "1", "expected_tenant": 5})"));
}

TEST(FaxIngestFiles, TellsATiffByItsMagic) {
  EXPECT_TRUE(looks_like_tiff(std::string("II*\0\x08\0\0\0", 8)));
  EXPECT_TRUE(looks_like_tiff(std::string("MM\0*\0\0\0\x08", 8)));
  EXPECT_FALSE(looks_like_tiff("%PDF-1.4"));
  EXPECT_FALSE(looks_like_tiff(std::string("II*\0", 4)));
}

// A directory of two tenants' numbers; find_number answers by map.
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

const std::string kTenantA = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kTenantB = "bbbbbbbb-0000-4000-8000-000000000002";

StandInDirectory two_tenants() {
  StandInDirectory d;
  d.numbers["+4930111"] = {"+4930111", kTenantA, "anna@a.example", "fax", false};
  d.numbers["+4930222"] = {"+4930222", kTenantB, "bob@b.example", "", false};
  d.numbers["+4930333"] = {"+4930333", kTenantA, "sms@a.example", "sms", false};
  directory::User catch_all;
  catch_all.address = "faxes@a.example";
  catch_all.tenant = kTenantA;
  d.users["faxes@a.example"] = catch_all;
  return d;
}

TEST(FaxIngestMailbox, AnyTenantWhenNoneIsExpected) {
  StandInDirectory d = two_tenants();
  IngestSettings settings;
  MailboxChoice anna = choose_mailbox(d, "+4930111", settings, "");
  EXPECT_EQ(anna.status, IngestStatus::queued);
  EXPECT_EQ(anna.mailbox, "anna@a.example");
  EXPECT_EQ(anna.tenant, kTenantA);
  EXPECT_EQ(choose_mailbox(d, "+4930222", settings, "").mailbox, "bob@b.example");
  EXPECT_EQ(choose_mailbox(d, "+4930999", settings, "").status, IngestStatus::unknown_number);
  // An SMS-only number is not a fax number: the catch-all takes it.
  settings.catch_all = "faxes@a.example";
  MailboxChoice sms = choose_mailbox(d, "+4930333", settings, "");
  EXPECT_EQ(sms.mailbox, "faxes@a.example");
  EXPECT_EQ(sms.tenant, kTenantA);
}

TEST(FaxIngestMailbox, AnExpectedTenantGetsOnlyItsOwnNumbers) {
  StandInDirectory d = two_tenants();
  IngestSettings settings;
  settings.catch_all = "faxes@a.example";  // tenant A's, but never for a tenant's token
  EXPECT_EQ(choose_mailbox(d, "+4930111", settings, kTenantA).mailbox, "anna@a.example");
  MailboxChoice other = choose_mailbox(d, "+4930222", settings, kTenantA);
  EXPECT_EQ(other.status, IngestStatus::refused);
  EXPECT_TRUE(other.mailbox.empty());
  EXPECT_NE(other.reason.find("not the tenant's"), std::string::npos);
  EXPECT_EQ(choose_mailbox(d, "+4930999", settings, kTenantA).status, IngestStatus::refused);
  EXPECT_EQ(choose_mailbox(d, "+4930333", settings, kTenantA).status, IngestStatus::refused);
  // The number changed owner after the API's check: the folder's lookup refuses it.
  d.numbers["+4930111"].tenant = kTenantB;
  EXPECT_EQ(choose_mailbox(d, "+4930111", settings, kTenantA).status, IngestStatus::refused);
  d.unavailable = true;
  EXPECT_EQ(choose_mailbox(d, "+4930111", settings, kTenantA).status, IngestStatus::unavailable);
}

TEST(FaxIngestMessageId, TheSameFaxGetsTheSameMessageId) {
  std::string tiff("II*\0page one", 12);
  std::string id = fax_message_id_left(tiff, "+4930111", 1764633600);
  // SHA-256 of the TIFF, "\n", the number, "\n", the time; 32 hex digits
  // (python3: hashlib.sha256(tiff + b"\n+4930111\n1764633600")).
  EXPECT_EQ(id, "9453e48ed46aa6d4f9fefe2969850290");
  EXPECT_EQ(fax_message_id_left(tiff, "+4930111", 1764633600), id);
  EXPECT_NE(fax_message_id_left(tiff + "x", "+4930111", 1764633600), id);
  EXPECT_NE(fax_message_id_left(tiff, "+4930112", 1764633600), id);
  EXPECT_NE(fax_message_id_left(tiff, "+4930111", 1764633601), id);
}

}  // namespace
}  // namespace bh::connectors::fax
