#include "connectors/fax/fax_kind.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server/config.hpp"

namespace fax = bh::connectors::fax;

namespace {

// The [[connector]] table starts on line 12, its keys on line 15.
const std::string kConfigHead = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["fax.example.com"]
connector = "fax"

[[connector]]
name = "fax"
type = "fax"
)";

bh::Result<bh::Config> fax_config(const std::string& keys) {
  return bh::parse_config(kConfigHead + keys, "gw.toml");
}

std::string error_of(const std::string& keys) {
  auto config = fax_config(keys);
  return config ? std::string("(no error)") : config.error().message;
}

const std::string kMinimal =
    "backend = \"spool\"\nspool_directory = \"/var/spool/fax\"\ndomains = "
    "[\"fax.example.com\"]\n";

}  // namespace

TEST(FaxKind, ReadsValuesAndDefaults) {
  auto config = fax_config(kMinimal);
  ASSERT_TRUE(config) << config.error().message;
  const fax::FaxSettings* s = bh::connectors::fax_settings(config->connectors.at(0).spec.get());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, fax::Backend::spool);
  EXPECT_EQ(s->spool.directory, "/var/spool/fax");
  EXPECT_EQ(s->work_directory, "/var/spool/fax/work");
  EXPECT_EQ(s->default_region, "DE");
  EXPECT_TRUE(s->destinations.block_premium_rate);
  EXPECT_EQ(s->format.paper, bh::render::Paper::a4);
  EXPECT_EQ(s->success_notice, fax::SuccessNotice::dsn);
  EXPECT_EQ(s->spool.poll_interval.count(), 5);
  EXPECT_EQ(s->ingest.reply_domain, "fax.example.com");
  EXPECT_EQ(s->ingest.sender, "postmaster@gw.example");

  config = fax_config(
      "domains = [\"fax.example.com\"]\nwork_directory = \"/var/lib/bh/fax\"\n"
      "hylafax_host = \"127.0.0.1\"\nhylafax_port = 4560\nhylafax_user = \"bh\"\n"
      "poll_interval = 30\nkill_time = 600\nmax_tries = 5\ndefault_region = \"GB\"\n"
      "blocked_prefixes = [\"+44909\"]\nallowed_prefixes = [\"+44\", \"+49\"]\n"
      "blocked_patterns = ['\\+4470.*']\nblock_premium_rate = false\npaper = \"letter\"\n"
      "resolution = \"normal\"\ncompression = \"g3\"\nmax_pages = 10\n"
      "max_message_size = 1048576\nsuccess_notice = \"report\"\n"
      "render_helper = \"/usr/lib/bh/bridgehead-render\"\nrender_user = \"bhrender\"\n"
      "render_cpu_seconds = 20\nrender_timeout = 40\nrender_memory = 268435456\n"
      "max_parallel_renders = 4\ncatch_all = \"fax@example.com\"\nattach_tiff = true\n"
      "ingest_max_pages = 20\ningest_reply_domain = \"reply.example.com\"\n");
  ASSERT_TRUE(config) << config.error().message;
  s = bh::connectors::fax_settings(config->connectors.at(0).spec.get());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, fax::Backend::hylafax);
  EXPECT_EQ(s->hylafax.host, "127.0.0.1");
  EXPECT_EQ(s->hylafax.port, 4560);
  EXPECT_EQ(s->hylafax.user, "bh");
  EXPECT_EQ(s->hylafax.poll_interval.count(), 30);
  EXPECT_EQ(s->hylafax.kill_time.count(), 600);
  EXPECT_EQ(s->hylafax.max_tries, 5);
  EXPECT_EQ(s->default_region, "GB");
  EXPECT_EQ(s->destinations.blocked_prefixes, std::vector<std::string>{"+44909"});
  EXPECT_EQ(s->destinations.allowed_prefixes.size(), 2u);
  EXPECT_EQ(s->destinations.blocked_patterns, std::vector<std::string>{"\\+4470.*"});
  EXPECT_FALSE(s->destinations.block_premium_rate);
  EXPECT_EQ(s->format.paper, bh::render::Paper::letter);
  EXPECT_EQ(s->format.resolution, bh::render::Resolution::normal);
  EXPECT_EQ(s->format.compression, bh::render::Compression::g3);
  EXPECT_EQ(s->max_pages, 10);
  EXPECT_EQ(s->max_message_bytes, 1048576u);
  EXPECT_EQ(s->success_notice, fax::SuccessNotice::report);
  EXPECT_EQ(s->render.program, "/usr/lib/bh/bridgehead-render");
  EXPECT_EQ(s->render.limits.user, "bhrender");
  EXPECT_EQ(s->render.limits.cpu.count(), 20);
  EXPECT_EQ(s->render.limits.wall.count(), 40);
  EXPECT_EQ(s->render.limits.memory_bytes, 268435456u);
  EXPECT_EQ(s->max_parallel_renders, 4u);
  EXPECT_EQ(s->ingest.catch_all, "fax@example.com");
  EXPECT_TRUE(s->ingest.attach_tiff);
  EXPECT_EQ(s->ingest.max_pages, 20);
  EXPECT_EQ(s->ingest.reply_domain, "reply.example.com");
}

TEST(FaxKind, ErrorsNameFileLineAndKey) {
  const std::string spool = "backend = \"spool\"\nspool_directory = \"/s\"\n";
  struct Case {
    std::string keys, error;
  };
  const Case cases[] = {
      {spool, "gw.toml:12: connector[0].domains: required key is missing"},
      {spool + "domains = []\n", "gw.toml:17: connector[0].domains: must be a non-empty list"},
      {spool + "domains = [\"fax..example\"]\n",
       "gw.toml:17: connector[0].domains: \"fax..example\" has an empty label"},
      {"backend = \"modem\"\ndomains = [\"fax.example.com\"]\n",
       "gw.toml:15: connector[0].backend: \"modem\" is not one of \"hylafax\", \"spool\""},
      {kMinimal + "default_region = \"XX\"\n",
       "gw.toml:18: connector[0].default_region: \"XX\" is not a region libphonenumber knows"},
      {kMinimal + "blocked_prefixes = [\"+49900\", \"0900\"]\n",
       "gw.toml:18: connector[0].blocked_prefixes: \"0900\" must start with '+'"},
      {kMinimal + "allowed_prefixes = [\"+49 30\"]\n",
       "gw.toml:18: connector[0].allowed_prefixes: \"+49 30\" must be '+' and digits only"},
      {kMinimal + "blocked_patterns = [\"(+49\"]\n",
       "gw.toml:18: connector[0].blocked_patterns: \"(+49\" is not a valid RE2 pattern"},
      {kMinimal + "paper = \"a3\"\n", "gw.toml:18: connector[0].paper: \"a3\" is not one of"},
      {kMinimal + "resolution = \"superfine\"\n", "gw.toml:18: connector[0].resolution:"},
      {kMinimal + "compression = \"jbig\"\n", "gw.toml:18: connector[0].compression:"},
      {kMinimal + "success_notice = \"mail\"\n",
       "gw.toml:18: connector[0].success_notice: \"mail\" is not one of \"dsn\", \"report\""},
      {kMinimal + "max_pages = 0\n",
       "gw.toml:18: connector[0].max_pages: must be an integer from 1 to 1000"},
      {kMinimal + "poll_interval = 0\n", "gw.toml:18: connector[0].poll_interval: must be an"},
      {kMinimal + "render_memory = 1\n", "gw.toml:18: connector[0].render_memory: must be an"},
      {kMinimal + "cover_template = \"\"\n",
       "gw.toml:18: connector[0].cover_template: must not be empty"},
      {kMinimal + "hylafax_host = \"a b\"\n", "gw.toml:18: connector[0].hylafax_host:"},
      {kMinimal + "frobnicate = 1\n", "gw.toml:18: connector[0].frobnicate: unknown key"},
      {"backend = \"spool\"\ndomains = [\"fax.example.com\"]\n",
       "gw.toml:12: connector[0].spool_directory: required key is missing"},
      {"domains = [\"fax.example.com\"]\n",
       "gw.toml:12: connector[0].work_directory: required key is missing"},
      {"domains = [\"fax.example.com\"]\nwork_directory = \"/w\"\nspool_directory = \"/s\"\n",
       "gw.toml:17: connector[0].spool_directory: is for backend = \"spool\" only"},
  };
  for (const Case& c : cases)
    EXPECT_NE(error_of(c.keys).find(c.error), std::string::npos)
        << c.keys << "\n-> " << error_of(c.keys);
}

TEST(FaxKind, CheckResourcesNamesEachProblem) {
  fax::FaxSettings s;
  s.backend = fax::Backend::spool;
  // Missing folders below a writable one are fine: the connector creates them.
  const std::filesystem::path missing =
      std::filesystem::temp_directory_path() / ("bh-fax-missing-" + std::to_string(::getpid()));
  s.spool.directory = missing / "spool";
  s.work_directory = missing / "spool" / "work";
  s.render.program = "/nonexistent/bridgehead-render";
  s.render.limits.user = "no-such-user-bh";
  s.cover_template = "/nonexistent/cover.txt";
  std::string all;
  for (const std::string& problem : fax::check_fax_resources(s)) all += problem + "\n";
  EXPECT_NE(all.find("render_helper /nonexistent/bridgehead-render: not an executable"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("render_user \"no-such-user-bh\": no such user"), std::string::npos) << all;
  EXPECT_NE(all.find("cover_template /nonexistent/cover.txt: cannot be read"), std::string::npos);
  EXPECT_EQ(all.find("spool_directory's outgoing"), std::string::npos) << all;
  EXPECT_EQ(all.find("work_directory"), std::string::npos) << all;

  // A folder below a file cannot be created.
  s.spool.directory = "/etc/passwd/spool";
  s.work_directory = "/etc/passwd/work";
  all.clear();
  for (const std::string& problem : fax::check_fax_resources(s)) all += problem + "\n";
  EXPECT_NE(all.find("spool_directory's outgoing /etc/passwd/spool/outgoing: /etc/passwd is not a "
                     "directory"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("work_directory /etc/passwd/work: /etc/passwd is not a directory"),
            std::string::npos)
      << all;

  s.backend = fax::Backend::hylafax;
  s.hylafax.password_file = "/etc/passwd";  // readable by others: refused
  all.clear();
  for (const std::string& problem : fax::check_fax_resources(s)) all += problem + "\n";
  EXPECT_NE(all.find("hylafax_password_file"), std::string::npos) << all;
  EXPECT_EQ(all.find("hylafax_admin_password_file"), std::string::npos) << all;
  s.hylafax.admin_password_file = "/etc/passwd";  // the same rule for the ADMIN password
  all.clear();
  for (const std::string& problem : fax::check_fax_resources(s)) all += problem + "\n";
  EXPECT_NE(all.find("hylafax_admin_password_file"), std::string::npos) << all;
}

// HylaFAX gives up after kill_time; the gateway must wait longer than that
// (the core key pending_timeout) or it bounces faxes HylaFAX still sends.
TEST(FaxKind, PendingTimeoutMustOutlastKillTime) {
  const std::string hylafax =
      "domains = [\"fax.example.com\"]\nwork_directory = \"/var/lib/bh/fax\"\n";
  EXPECT_EQ(error_of(hylafax), "(no error)");  // 86400 against 10800
  EXPECT_EQ(error_of(hylafax + "pending_timeout = 10800\n"),
            "gw.toml:17: connector[0].pending_timeout: 10800 s must be longer than kill_time "
            "(10800 s): the gateway would bounce a fax HylaFAX may still send");
  EXPECT_EQ(error_of(hylafax + "kill_time = 172800\n"),
            "gw.toml:17: connector[0].pending_timeout: 86400 s must be longer than kill_time "
            "(172800 s): the gateway would bounce a fax HylaFAX may still send");
  EXPECT_EQ(error_of(hylafax + "kill_time = 172800\npending_timeout = 172801\n"), "(no error)");
  // The spool backend has no kill time of its own.
  EXPECT_EQ(error_of(kMinimal + "pending_timeout = 60\n"), "(no error)");
}
