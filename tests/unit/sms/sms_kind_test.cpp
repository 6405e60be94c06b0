#include "connectors/sms/sms_kind.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "server/config.hpp"
#include "tests/unit/temp_dir.hpp"

namespace sms = bh::connectors::sms;

namespace {

// The [[connector]] table starts on line 12, its keys on line 15.
const std::string kConfigHead = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["sms.example.com"]
connector = "sms"

[[connector]]
name = "sms"
type = "sms"
)";

const std::string kDomains = "domains = [\"sms.example.com\"]\n";  // line 15
// Keys of the connector come before its [[connector.bind]] tables.
const std::string kBind = "\n[[connector.bind]]\nsystem_id = \"gw\"\n";

bh::Result<bh::Config> sms_config(const std::string& keys, const std::string& binds = kBind) {
  return bh::parse_config(kConfigHead + keys + binds, "gw.toml");
}

std::string error_of(const std::string& keys, const std::string& binds = kBind) {
  auto config = sms_config(keys, binds);
  return config ? std::string("(no error)") : config.error().message;
}

const sms::SmsSettings* settings_of(const bh::Result<bh::Config>& config) {
  return config ? bh::connectors::sms_settings(config->connectors.at(0).spec.get()) : nullptr;
}

}  // namespace

TEST(SmsKind, ReadsDefaults) {
  auto config = sms_config(kDomains);
  ASSERT_TRUE(config) << config.error().message;
  const sms::SmsSettings* s = settings_of(config);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "sms");
  EXPECT_EQ(s->hostname, "gw.example");
  EXPECT_EQ(s->domains, std::vector<std::string>{"sms.example.com"});
  EXPECT_EQ(s->default_region, "DE");
  EXPECT_TRUE(s->destinations.block_premium_rate);  // a paid service: premium rate is refused
  EXPECT_TRUE(s->destinations.blocked_prefixes.empty());
  EXPECT_TRUE(s->destinations.blocked_patterns.empty());
  EXPECT_TRUE(s->destinations.allowed_prefixes.empty());
  EXPECT_EQ(s->text_source, sms::TextSource::body);
  EXPECT_TRUE(s->trim_quotes);
  EXPECT_TRUE(s->trim_signature);
  EXPECT_EQ(s->long_messages, sms::LongMessages::udh);
  EXPECT_EQ(s->max_parts, 6);
  EXPECT_EQ(s->max_payload_bytes, 1800u);
  EXPECT_EQ(s->default_alphabet, sms::DefaultAlphabet::gsm7);
  EXPECT_EQ(s->source_address, "");
  EXPECT_TRUE(s->request_receipts);
  EXPECT_EQ(s->receipt_ids, sms::ReceiptIds::same);
  EXPECT_EQ(s->validity_period, "");
  EXPECT_EQ(s->success_notice, sms::SuccessNotice::dsn);
  EXPECT_EQ(s->window, 10);
  EXPECT_EQ(s->timing.submit_wait.count(), 60);
  EXPECT_EQ(s->inbound.reply_domain, "sms.example.com");
  EXPECT_EQ(s->inbound.sender, "postmaster@gw.example");
  EXPECT_EQ(s->inbound.reassembly_timeout.count(), 600);
  EXPECT_EQ(s->inbound.duplicate_window.count(), 300);
  ASSERT_EQ(s->binds.size(), 1u);
  EXPECT_EQ(s->binds[0].host, "127.0.0.1");
  EXPECT_EQ(s->binds[0].port, 2775);
  EXPECT_EQ(s->binds[0].system_id, "gw");
  EXPECT_FALSE(s->binds[0].tls);
  EXPECT_TRUE(s->binds[0].password.empty());  // read by build(), never by the reader
}

TEST(SmsKind, ReadsEveryKey) {
  auto config = sms_config(
      "domains = [\"sms.example.com\", \"text.example.com\"]\ndefault_region = \"GB\"\n"
      "blocked_prefixes = [\"+44909\"]\nallowed_prefixes = [\"+44\", \"+49\"]\n"
      "blocked_patterns = ['\\+4470.*']\nblock_premium_rate = false\n"
      "text_source = \"subject_and_body\"\ntrim_quotes = false\ntrim_signature = false\n"
      "cut_patterns = ['^Sent from my ', '^-----']\nlong_messages = \"message_payload\"\n"
      "max_parts = 3\nmax_payload_bytes = 900\ndefault_alphabet = \"latin1\"\n"
      "source_address = \"07400 123456\"\nrequest_receipts = false\n"
      "receipt_ids = \"hex_to_decimal\"\nvalidity_period = \"000001000000000R\"\n"
      "success_notice = \"report\"\nmax_message_size = 65536\nwindow = 50\n"
      "connect_timeout = 5\nresponse_timeout = 20\nenquire_link_interval = 60\n"
      "submit_wait = 30\nreconnect_min_ms = 500\nreconnect_max_ms = 30000\n"
      "throttle_backoff_ms = 200\nthrottle_backoff_max_ms = 5000\n"
      "reply_domain = \"reply.example.com\"\ncatch_all = \"sms@example.com\"\n"
      "inbound_sender = \"sms-gateway@example.com\"\nreassembly_timeout = 120\n"
      "inbound_duplicate_window = 60\n",
      "\n[[connector.bind]]\nhost = \"smsc1.example.net\"\nport = 3550\nsystem_id = "
      "\"bridgehead\"\npassword_file = \"/etc/bh/smsc1.pw\"\nsystem_type = \"EMAIL\"\ntls = true\n"
      "tls_ca_file = \"/etc/bh/ca.pem\"\ntls_server_name = \"smsc.example.net\"\n"
      "tls_certificate = \"/etc/bh/client.pem\"\ntls_key = \"/etc/bh/client.key\"\ncount = 2\n"
      "\n[[connector.bind]]\nhost = \"192.0.2.7\"\nsystem_id = \"bh2\"\n");
  ASSERT_TRUE(config) << config.error().message;
  const sms::SmsSettings* s = settings_of(config);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->domains.size(), 2u);
  EXPECT_EQ(s->default_region, "GB");
  EXPECT_EQ(s->destinations.blocked_prefixes, std::vector<std::string>{"+44909"});
  EXPECT_EQ(s->destinations.allowed_prefixes, (std::vector<std::string>{"+44", "+49"}));
  EXPECT_EQ(s->destinations.blocked_patterns, std::vector<std::string>{"\\+4470.*"});
  EXPECT_FALSE(s->destinations.block_premium_rate);
  EXPECT_EQ(s->text_source, sms::TextSource::subject_and_body);
  EXPECT_FALSE(s->trim_quotes);
  EXPECT_FALSE(s->trim_signature);
  EXPECT_EQ(s->cut_patterns, (std::vector<std::string>{"^Sent from my ", "^-----"}));
  EXPECT_EQ(s->long_messages, sms::LongMessages::message_payload);
  EXPECT_EQ(s->max_parts, 3);
  EXPECT_EQ(s->max_payload_bytes, 900u);
  EXPECT_EQ(s->default_alphabet, sms::DefaultAlphabet::latin1);
  EXPECT_EQ(s->source_address, "+447400123456");  // national, by default_region GB
  EXPECT_FALSE(s->request_receipts);
  EXPECT_EQ(s->receipt_ids, sms::ReceiptIds::hex_to_decimal);
  EXPECT_EQ(s->validity_period, "000001000000000R");
  EXPECT_EQ(s->success_notice, sms::SuccessNotice::report);
  EXPECT_EQ(s->max_message_bytes, 65536u);
  EXPECT_EQ(s->window, 50);
  EXPECT_EQ(s->timing.connect_timeout.count(), 5);
  EXPECT_EQ(s->timing.response_timeout.count(), 20);
  EXPECT_EQ(s->timing.enquire_link_interval.count(), 60);
  EXPECT_EQ(s->timing.submit_wait.count(), 30);
  EXPECT_EQ(s->timing.reconnect_min.count(), 500);
  EXPECT_EQ(s->timing.reconnect_max.count(), 30000);
  EXPECT_EQ(s->timing.throttle_backoff.count(), 200);
  EXPECT_EQ(s->timing.throttle_backoff_max.count(), 5000);
  EXPECT_EQ(s->inbound.reply_domain, "reply.example.com");
  EXPECT_EQ(s->inbound.catch_all, "sms@example.com");
  EXPECT_EQ(s->inbound.sender, "sms-gateway@example.com");
  EXPECT_EQ(s->inbound.reassembly_timeout.count(), 120);
  EXPECT_EQ(s->inbound.duplicate_window.count(), 60);
  ASSERT_EQ(s->binds.size(), 3u);  // count = 2, then one more
  for (int i = 0; i < 2; ++i) {
    const sms::BindSettings& b = s->binds[i];
    EXPECT_EQ(b.host, "smsc1.example.net");
    EXPECT_EQ(b.port, 3550);
    EXPECT_EQ(b.system_id, "bridgehead");
    EXPECT_EQ(b.password_file, "/etc/bh/smsc1.pw");
    EXPECT_EQ(b.system_type, "EMAIL");
    EXPECT_TRUE(b.tls);
    EXPECT_EQ(b.tls_ca_file, "/etc/bh/ca.pem");
    EXPECT_EQ(b.tls_server_name, "smsc.example.net");
    EXPECT_EQ(b.tls_certificate, "/etc/bh/client.pem");
    EXPECT_EQ(b.tls_key, "/etc/bh/client.key");
  }
  EXPECT_EQ(s->binds[2].host, "192.0.2.7");
  EXPECT_EQ(s->binds[2].port, 2775);
  EXPECT_EQ(s->binds[2].system_id, "bh2");
  EXPECT_FALSE(s->binds[2].tls);
}

TEST(SmsKind, SourceAddressIsANumberOrASenderId) {
  struct Case {
    std::string given, kept;
  };
  const Case good[] = {
      {"+49 170 1234567", "+491701234567"}, {"0170 1234567", "+491701234567"},
      {"Bridgehead", "Bridgehead"},         {"ACME Ltd", "ACME Ltd"},
      {"ElevenChars", "ElevenChars"},
  };
  for (const Case& c : good) {
    auto config = sms_config(kDomains + "source_address = \"" + c.given + "\"\n");
    ASSERT_TRUE(config) << c.given << ": " << config.error().message;
    EXPECT_EQ(settings_of(config)->source_address, c.kept);
  }
  // The same rule as at delivery (source_address_of): printable ASCII only,
  // so "Café-Shop" (é is GSM 7-bit, but source_addr is in the SMSC's
  // default alphabet) and the extension table's "[" are refused here
  // rather than deferring every mail.
  const std::string bad[] = {"+49 12", "12345",     "Bridgehead SMS", "Grüße☺",
                             "+49abc", "Café-Shop", "Shop[1]",        "TwelveChars!"};
  for (const std::string& given : bad)
    EXPECT_NE(error_of(kDomains + "source_address = \"" + given + "\"\n")
                  .find("gw.toml:16: connector[0].source_address: \"" + given + "\" is not"),
              std::string::npos)
        << given << " -> " << error_of(kDomains + "source_address = \"" + given + "\"\n");
}

TEST(SmsKind, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string keys, error;
  };
  const Case cases[] = {
      {"", "gw.toml:12: connector[0].domains: required key is missing"},
      {"domains = []\n", "gw.toml:15: connector[0].domains: must be a non-empty list"},
      {"domains = [\"sms..example\"]\n",
       "gw.toml:15: connector[0].domains: \"sms..example\" has an empty label"},
      {kDomains + "default_region = \"XX\"\n",
       "gw.toml:16: connector[0].default_region: \"XX\" is not a region libphonenumber knows"},
      {kDomains + "text_source = \"html\"\n",
       "gw.toml:16: connector[0].text_source: \"html\" is not one of \"body\", \"subject\", "
       "\"subject_and_body\""},
      {kDomains + "trim_quotes = 1\n",
       "gw.toml:16: connector[0].trim_quotes: must be true or false"},
      {kDomains + "trim_signature = \"yes\"\n", "gw.toml:16: connector[0].trim_signature: must"},
      {kDomains + "cut_patterns = [\"^ok\", \"(unclosed\"]\n",
       "gw.toml:16: connector[0].cut_patterns: \"(unclosed\" is not a valid RE2 pattern"},
      {kDomains + "long_messages = \"split\"\n",
       "gw.toml:16: connector[0].long_messages: \"split\" is not one of \"udh\", \"sar\", "
       "\"message_payload\""},
      {kDomains + "max_parts = 0\n",
       "gw.toml:16: connector[0].max_parts: must be an integer from 1 to 255"},
      {kDomains + "max_parts = 256\n", "gw.toml:16: connector[0].max_parts: must be an integer"},
      {kDomains + "max_payload_bytes = 139\n",
       "gw.toml:16: connector[0].max_payload_bytes: must be an integer from 140 to 65535"},
      {kDomains + "default_alphabet = \"ucs2\"\n",
       "gw.toml:16: connector[0].default_alphabet: \"ucs2\" is not one of \"gsm7\", \"latin1\", "
       "\"ascii\""},
      {kDomains + "request_receipts = 0\n", "gw.toml:16: connector[0].request_receipts: must"},
      {kDomains + "receipt_ids = \"hex\"\n",
       "gw.toml:16: connector[0].receipt_ids: \"hex\" is not one of \"same\", \"hex_to_decimal\", "
       "\"decimal_to_hex\""},
      {kDomains + "validity_period = \"000001000000R\"\n",
       "gw.toml:16: connector[0].validity_period: \"000001000000R\" is not an SMPP time"},
      {kDomains + "validity_period = \"0000010000000000\"\n",
       "gw.toml:16: connector[0].validity_period: \"0000010000000000\" is not an SMPP time"},
      {kDomains + "success_notice = \"mail\"\n",
       "gw.toml:16: connector[0].success_notice: \"mail\" is not one of \"dsn\", \"report\""},
      {kDomains + "max_message_size = 10\n",
       "gw.toml:16: connector[0].max_message_size: must be an integer from 1024"},
      {kDomains + "window = 0\n",
       "gw.toml:16: connector[0].window: must be an integer from 1 to 1000"},
      {kDomains + "window = 1001\n", "gw.toml:16: connector[0].window: must be an integer"},
      {kDomains + "connect_timeout = 0\n", "gw.toml:16: connector[0].connect_timeout: must be"},
      {kDomains + "response_timeout = 0\n", "gw.toml:16: connector[0].response_timeout: must"},
      {kDomains + "enquire_link_interval = 1\n",
       "gw.toml:16: connector[0].enquire_link_interval: must be an integer from 5 to 3600"},
      {kDomains + "submit_wait = \"60\"\n", "gw.toml:16: connector[0].submit_wait: must be"},
      {kDomains + "reconnect_min_ms = 1\n", "gw.toml:16: connector[0].reconnect_min_ms: must"},
      {kDomains + "reconnect_max_ms = 0\n", "gw.toml:16: connector[0].reconnect_max_ms: must"},
      {kDomains + "reconnect_min_ms = 5000\nreconnect_max_ms = 2000\n",
       "gw.toml:17: connector[0].reconnect_max_ms: reconnect_max_ms (2000 ms) must not be less "
       "than reconnect_min_ms (5000 ms)"},
      {kDomains + "throttle_backoff_ms = 0\n",
       "gw.toml:16: connector[0].throttle_backoff_ms: must"},
      {kDomains + "throttle_backoff_ms = 60000\n",
       "gw.toml:16: connector[0].throttle_backoff_ms: throttle_backoff_max_ms (30000 ms) must "
       "not be less than throttle_backoff_ms (60000 ms)"},
      {kDomains + "throttle_backoff_max_ms = 0\n",
       "gw.toml:16: connector[0].throttle_backoff_max_ms: must"},
      {kDomains + "reply_domain = \"-bad-\"\n", "gw.toml:16: connector[0].reply_domain: \"-bad-\""},
      {kDomains + "catch_all = 5\n", "gw.toml:16: connector[0].catch_all: must be a string"},
      {kDomains + "catch_all = \"sms desk\"\n",
       "gw.toml:16: connector[0].catch_all: \"sms desk\" is not a mail address: it is not "
       "local@domain"},
      {kDomains + "catch_all = \"postmaster\"\n",
       "gw.toml:16: connector[0].catch_all: \"postmaster\" is not a mail address: it has no "
       "domain"},
      {kDomains + "catch_all = \"desk@example.com> SIZE=1\"\n",
       "gw.toml:16: connector[0].catch_all: \"desk@example.com> SIZE=1\" is not a mail address"},
      {kDomains + "inbound_sender = \"sms@@example.com\"\n",
       "gw.toml:16: connector[0].inbound_sender: \"sms@@example.com\" is not a mail address"},
      {kDomains + "inbound_sender = \"büro@example.com\"\n",
       "gw.toml:16: connector[0].inbound_sender: \"büro@example.com\" is not a mail address: "
       "the envelope sender must be ASCII"},
      {kDomains + "blocked_prefixes = [\"+49900\", \"0900\"]\n",
       "gw.toml:16: connector[0].blocked_prefixes: \"0900\" must start with '+'"},
      {kDomains + "allowed_prefixes = [\"+49 170\"]\n",
       "gw.toml:16: connector[0].allowed_prefixes: \"+49 170\" must be '+' and digits only"},
      {kDomains + "blocked_patterns = [\"(+49\"]\n",
       "gw.toml:16: connector[0].blocked_patterns: \"(+49\" is not a valid RE2 pattern"},
      {kDomains + "block_premium_rate = \"no\"\n",
       "gw.toml:16: connector[0].block_premium_rate: must be true or false"},
      {kDomains + "inbound_sender = true\n",
       "gw.toml:16: connector[0].inbound_sender: must be a string"},
      {kDomains + "reassembly_timeout = 5\n",
       "gw.toml:16: connector[0].reassembly_timeout: must be an integer from 10 to 86400"},
      {kDomains + "inbound_duplicate_window = 90000\n",
       "gw.toml:16: connector[0].inbound_duplicate_window: must be an integer from 10 to 86400"},
      {kDomains + "frobnicate = 1\n", "gw.toml:16: connector[0].frobnicate: unknown key"},
  };
  for (const Case& c : cases)
    EXPECT_NE(error_of(c.keys).find(c.error), std::string::npos)
        << c.keys << "\n-> " << error_of(c.keys);
}

// [[connector.bind]] tables: their own keys, lines and limits. The first
// bind's table header is on line 17, its first key on line 18.
TEST(SmsKind, BindErrorsNameTheirLine) {
  struct Case {
    std::string bind, error;
  };
  const Case cases[] = {
      {"host = \"127.0.0.1\"\n", "gw.toml:17: bind[0].system_id: required key is missing"},
      {"system_id = \"\"\n",
       "gw.toml:18: bind[0].system_id: \"\" has 0 characters; it must "
       "have 1 to 15"},
      {"system_id = \"a-system-id-of-16\"\n",
       "gw.toml:18: bind[0].system_id: \"a-system-id-of-16\" has 17 characters; it must have 1 "
       "to 15"},
      {"system_id = \"gw\\u0000\"\n", "gw.toml:18: bind[0].system_id: \"gw"},
      {"system_id = \"gw\"\nsystem_type = \"thirteen-char\"\n",
       "gw.toml:19: bind[0].system_type: \"thirteen-char\" has 13 characters"},
      {"system_id = \"gw\"\nhost = \"smsc..example\"\n",
       "gw.toml:19: bind[0].host: \"smsc..example\" has an empty label"},
      {"system_id = \"gw\"\nport = 0\n",
       "gw.toml:19: bind[0].port: must be an integer from 1 to 65535"},
      {"system_id = \"gw\"\npassword_file = \"\"\n",
       "gw.toml:19: bind[0].password_file: must not be empty"},
      {"system_id = \"gw\"\ntls = \"yes\"\n", "gw.toml:19: bind[0].tls: must be true or false"},
      {"system_id = \"gw\"\ntls_ca_file = \"/etc/ca.pem\"\n",
       "gw.toml:19: bind[0].tls_ca_file: is for tls = true only"},
      {"system_id = \"gw\"\ntls = true\ntls_certificate = \"/etc/c.pem\"\n",
       "gw.toml:20: bind[0].tls_certificate: needs both tls_certificate and tls_key"},
      {"system_id = \"gw\"\ntls = true\ntls_key = \"/etc/c.key\"\n",
       "gw.toml:20: bind[0].tls_key: needs both tls_certificate and tls_key"},
      {"system_id = \"gw\"\ncount = 0\n",
       "gw.toml:19: bind[0].count: must be an integer from 1 to 16"},
      {"system_id = \"gw\"\ncount = 17\n", "gw.toml:19: bind[0].count: must be an integer"},
      {"system_id = \"gw\"\nbogus = 1\n", "gw.toml:19: bind[0].bogus: unknown key"},
  };
  for (const Case& c : cases) {
    std::string error = error_of(kDomains, "\n[[connector.bind]]\n" + c.bind);
    EXPECT_NE(error.find(c.error), std::string::npos) << c.bind << "\n-> " << error;
  }
  // The second bind's errors name the second bind and its line.
  std::string error =
      error_of(kDomains,
               "\n[[connector.bind]]\nsystem_id = \"gw\"\n\n[[connector.bind]]\nsystem_id = "
               "\"gw\"\nport = 70000\n");
  EXPECT_NE(error.find("gw.toml:22: bind[1].port: must be an integer"), std::string::npos) << error;
}

TEST(SmsKind, AtLeastOneBind) {
  EXPECT_NE(error_of(kDomains, "").find("gw.toml:12: connector[0].bind: required key is missing"),
            std::string::npos)
      << error_of(kDomains, "");
  EXPECT_NE(error_of(kDomains + "bind = 1\n", "")
                .find("gw.toml:16: connector[0].bind: must be written as [[bind]] tables"),
            std::string::npos)
      << error_of(kDomains + "bind = 1\n", "");
}

// The README's example, from its [[connector]] to the end of its block.
TEST(SmsKind, ReadmeExampleIsAValidConfig) {
  std::ifstream in(std::string(BH_TEST_SUPPORT_DIR) + "/../../src/connectors/sms/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  std::size_t begin = readme.find("[[connector]]\n");
  ASSERT_NE(begin, std::string::npos);
  std::size_t end = readme.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  std::string head = kConfigHead.substr(0, kConfigHead.find("[[connector]]"));
  auto config = bh::parse_config(head + readme.substr(begin, end - begin), "README.md");
  ASSERT_TRUE(config) << config.error().message;
  const sms::SmsSettings* s = settings_of(config);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->binds.size(), 3u);
  EXPECT_EQ(s->source_address, "Contoso");
}

namespace {

std::string write_file(const bh::test::TempDir& dir, const std::string& name,
                       const std::string& text, mode_t mode) {
  std::string path = (dir / name).string();
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

std::string problems_of(const sms::SmsSettings& s) {
  std::string all;
  for (const std::string& problem : sms::check_sms_resources(s)) all += problem + "\n";
  return all;
}

}  // namespace

TEST(SmsKind, CheckResourcesReadsThePasswordFiles) {
  bh::test::TempDir dir("bh-sms-kind");
  ASSERT_FALSE(dir.path().empty());
  sms::SmsSettings s;
  s.binds.resize(2);
  s.binds[0].password_file = write_file(dir, "good.pw", "secret\n", 0600);
  s.binds[1].password_file = s.binds[0].password_file;
  EXPECT_EQ(problems_of(s), "");
  s.binds[1].password_file = write_file(dir, "long.pw", "123456789\n", 0600);
  EXPECT_NE(problems_of(s).find("long.pw: the password has 9 characters; SMPP allows 8"),
            std::string::npos)
      << problems_of(s);
  s.binds[1].password_file = write_file(dir, "open.pw", "secret\n", 0644);
  EXPECT_NE(problems_of(s).find("open.pw"), std::string::npos) << problems_of(s);
  s.binds[1].password_file = (dir / "missing.pw").string();
  EXPECT_NE(problems_of(s).find("missing.pw"), std::string::npos) << problems_of(s);
  // Two binds (count = 2) with the same missing file: named once.
  s.binds[0].password_file = s.binds[1].password_file;
  std::string all = problems_of(s);
  EXPECT_EQ(all.find("missing.pw"), all.rfind("missing.pw")) << all;
  EXPECT_NE(all.find("missing.pw"), std::string::npos) << all;

  s.binds.resize(1);
  s.binds[0].password_file.clear();
  s.binds[0].tls = true;
  s.binds[0].tls_ca_file = (dir / "ca.pem").string();
  EXPECT_NE(problems_of(s).find("tls_ca_file " + s.binds[0].tls_ca_file + ": cannot be read"),
            std::string::npos)
      << problems_of(s);
}
