// Loading and creating the processed stamp's keys (issue 8 section 5), and
// the [stamp] table.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "server/config.hpp"
#include "server/stamp_keys.hpp"

namespace fs = std::filesystem;
using namespace bh;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bh-stampkeys-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& path, const std::string& bytes, mode_t mode) {
  std::ofstream(path, std::ios::binary) << bytes;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const fs::path& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

StampConfig config_for(const fs::path& key, const fs::path& previous = {}) {
  StampConfig c;
  c.key_file = key.string();
  c.previous_key_file = previous.string();
  return c;
}

const std::string kKey(32, 'k');

std::string toml_with(const std::string& stamp) {
  return "[server]\nhostname = \"gw.example.com\"\n[[listener]]\naddress = \"127.0.0.1:2525\"\n"
         "starttls = false\n" +
         stamp;
}

}  // namespace

TEST(StampKeys, LoadsBothKeysAndDefaultsNodeToHostname) {
  TempDir dir;
  write_file(dir.path / "k", kKey, 0600);
  write_file(dir.path / "old", std::string(40, 'o'), 0400);
  auto keys = load_stamp_keys(config_for(dir.path / "k", dir.path / "old"), "gw.example.com");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->current, kKey);
  EXPECT_EQ(keys->previous, std::string(40, 'o'));
  EXPECT_EQ(keys->node, "gw.example.com");
  EXPECT_EQ(keys->max_age_seconds, 604800);

  StampConfig named = config_for(dir.path / "k");
  named.node = "gw1.example.com";
  named.max_age = 3600;
  auto second = load_stamp_keys(named, "gw.example.com");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->node, "gw1.example.com");
  EXPECT_EQ(second->previous, "");
  EXPECT_EQ(second->max_age_seconds, 3600);
}

TEST(StampKeys, KeyBytesAreTakenAsTheyAre) {
  TempDir dir;
  std::string with_newline = std::string(32, 'x') + "\n";
  write_file(dir.path / "k", with_newline, 0600);
  auto key = read_stamp_key((dir.path / "k").string());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, with_newline);
}

TEST(StampKeys, RefusesOpenPermissions) {
  TempDir dir;
  for (mode_t mode : {0640, 0604, 0644, 0620, 0602, 0660, 0666}) {
    fs::path path = dir.path / ("k" + std::to_string(mode));
    write_file(path, kKey, mode);
    auto key = read_stamp_key(path.string());
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_NE(key.error().message.find(path.string()), std::string::npos);
    EXPECT_NE(key.error().message.find("too open"), std::string::npos) << key.error().message;
  }
  // The previous key is held to the same rule.
  write_file(dir.path / "k", kKey, 0600);
  write_file(dir.path / "old", kKey, 0644);
  auto keys = load_stamp_keys(config_for(dir.path / "k", dir.path / "old"), "gw");
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.error().message.find((dir.path / "old").string()), std::string::npos);
}

TEST(StampKeys, RefusesShortAndHugeKeys) {
  TempDir dir;
  write_file(dir.path / "short", std::string(31, 'k'), 0600);
  auto short_key = read_stamp_key((dir.path / "short").string());
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.error().message.find("31 bytes"), std::string::npos)
      << short_key.error().message;
  EXPECT_NE(short_key.error().message.find((dir.path / "short").string()), std::string::npos);
  write_file(dir.path / "empty", "", 0600);
  EXPECT_FALSE(read_stamp_key((dir.path / "empty").string()).ok());
  write_file(dir.path / "huge", std::string(kMaxStampKeyBytes + 1, 'k'), 0600);
  EXPECT_FALSE(read_stamp_key((dir.path / "huge").string()).ok());
  write_file(dir.path / "exact", std::string(32, 'k'), 0600);
  EXPECT_TRUE(read_stamp_key((dir.path / "exact").string()).ok());
}

TEST(StampKeys, RefusesMissingFileAndDirectories) {
  TempDir dir;
  auto missing = load_stamp_keys(config_for(dir.path / "absent"), "gw");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find((dir.path / "absent").string()), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos)
      << missing.error().message;
  ::chmod(dir.path.c_str(), 0700);
  auto directory = read_stamp_key(dir.path.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);
}

TEST(StampKeys, RefusesUnreadableFile) {
  TempDir dir;
  fs::path file = dir.path / "k";
  write_file(file, kKey, 0200);
  // Root reads any file: then the check runs in a child as nobody, who owns the file.
  bool as_root = ::geteuid() == 0;
  constexpr uid_t kNobody = 65534;
  if (as_root) {
    ASSERT_EQ(::chown(dir.path.c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(::chown(file.c_str(), kNobody, kNobody), 0);
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (as_root && (::setresgid(kNobody, kNobody, kNobody) != 0 ||
                    ::setresuid(kNobody, kNobody, kNobody) != 0))
      ::_exit(3);
    auto key = read_stamp_key(file.string());
    bool refused = !key.ok() && key.error().message.find("Permission denied") != std::string::npos;
    ::_exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: read or wrong error, 3: could not become nobody";
}

TEST(StampKeys, GeneratesOnceWithMode0600AndReusesIt) {
  TempDir dir;
  fs::path path = dir.path / "var" / "stamp.key";
  bool created = false;
  auto first = load_or_create_stamp_keys(config_for(path), "gw", &created);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(created);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(fs::file_size(path), kGeneratedStampKeyBytes);
  EXPECT_EQ(first->current.size(), kGeneratedStampKeyBytes);
  // No temporary file is left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1u);

  auto second = load_or_create_stamp_keys(config_for(path), "gw", &created);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(second->current, first->current);
  // A stamp of the first start verifies on the second.
  std::string field = make_stamp_field(*first, "<1@x>", 1000);
  std::string value = field.substr(field.find(':') + 1);
  value.resize(value.size() - 2);
  EXPECT_EQ(verify_stamp(*second, value, "<1@x>", 1000), StampStatus::valid);
}

TEST(StampKeys, GenerationDoesNotRepairABadKey) {
  TempDir dir;
  write_file(dir.path / "k", kKey, 0644);
  bool created = true;
  auto keys = load_or_create_stamp_keys(config_for(dir.path / "k"), "gw", &created);
  EXPECT_FALSE(keys.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(mode_of(dir.path / "k"), 0644u);  // left for the administrator
}

TEST(StampKeys, GatewaysStartedAtOnceShareOneKey) {
  TempDir dir;
  fs::path path = dir.path / "stamp.key";
  std::vector<std::string> keys(8);
  std::vector<int> made(8, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < keys.size(); ++i)
    threads.emplace_back([&, i] {
      bool created = false;
      auto k = load_or_create_stamp_keys(config_for(path), "gw", &created);
      if (k.ok()) keys[i] = k->current;
      made[i] = created;
    });
  for (auto& t : threads) t.join();
  int creators = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i].size(), kGeneratedStampKeyBytes);
    EXPECT_EQ(keys[i], keys[0]);
    creators += made[i];
  }
  EXPECT_EQ(creators, 1);
}

TEST(StampKeys, ConfigTable) {
  auto plain = parse_config(toml_with(""), "t.toml");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->stamp.configured);
  EXPECT_EQ(plain->stamp.key_file, "var/stamp.key");
  EXPECT_EQ(plain->stamp.max_age, 604800);

  auto full = parse_config(toml_with("[stamp]\nkey_file = \"/etc/bh/stamp.key\"\n"
                                     "previous_key_file = \"/etc/bh/old.key\"\n"
                                     "node = \"gw1.example.com\"\nmax_age = 86400\n"),
                           "t.toml");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_TRUE(full->stamp.configured);
  EXPECT_EQ(full->stamp.key_file, "/etc/bh/stamp.key");
  EXPECT_EQ(full->stamp.previous_key_file, "/etc/bh/old.key");
  EXPECT_EQ(full->stamp.node, "gw1.example.com");
  EXPECT_EQ(full->stamp.max_age, 86400);
}

TEST(StampKeys, ConfigErrorsNameFileLineAndKey) {
  auto bad = parse_config(toml_with("[stamp]\nkey_file = \"\"\nnode = \"a b\"\nmax_age = 5\n"
                                    "keyfile = \"x\"\n"),
                          "t.toml");
  ASSERT_FALSE(bad.ok());
  const std::string& message = bad.error().message;
  EXPECT_NE(message.find("t.toml:7: stamp.key_file: must not be empty"), std::string::npos)
      << message;
  EXPECT_NE(message.find("t.toml:8: stamp.node: \"a b\" is not a host name"), std::string::npos)
      << message;
  EXPECT_NE(message.find("t.toml:9: stamp.max_age: must be an integer from 60 to 31536000"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("t.toml:10: stamp.keyfile: unknown key"), std::string::npos) << message;
}

TEST(StampKeys, ReceivedHeadersLimitIsConfigurable) {
  auto config = parse_config(toml_with("[limits]\nreceived_headers = 30\n"), "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->limits.received_headers, 30u);
  EXPECT_FALSE(parse_config(toml_with("[limits]\nreceived_headers = 0\n"), "t.toml").ok());
}
