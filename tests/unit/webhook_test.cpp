// The webhook connector's pure parts: the JSON writer and parser, the
// signature, the settings reader's errors, the answer classification and
// the callback handler (webhook_payload_test.cpp has the MIME walker).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "connectors/webhook/callback_handler.hpp"
#include "connectors/webhook/json.hpp"
#include "connectors/webhook/response.hpp"
#include "connectors/webhook/signature.hpp"
#include "connectors/webhook/webhook_kind.hpp"
#include "server/config.hpp"

namespace wh = bh::connectors::webhook;
using bh::connectors::Outcome;

namespace {

std::string encoded(std::string_view text) {
  std::string out;
  wh::append_json_string(out, text);
  return out;
}

}  // namespace

TEST(WebhookJson, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(encoded("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(encoded("\r\n\t"), R"("\r\n\t")");
  EXPECT_EQ(encoded(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(encoded("\x7f"), R"("\u007f")");
  EXPECT_EQ(encoded("\xc2\x85"), R"("\u0085")");          // C1 NEL
  EXPECT_EQ(encoded("\xe2\x80\xa8"), R"("\u2028")");      // line separator
  EXPECT_EQ(encoded("x\xe2\x80\xaey"), R"("x\u202ey")");  // right-to-left override
}

TEST(WebhookJson, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(encoded("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(encoded("\xff"), R"("\ufffd")");
  EXPECT_EQ(encoded("a\x80z"), R"("a\ufffdz")");                  // lone continuation byte
  EXPECT_EQ(encoded("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong '/'
  EXPECT_EQ(encoded("\xe2\x82"), R"("\ufffd\ufffd")");            // cut short
  EXPECT_EQ(encoded("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a surrogate
}

TEST(WebhookJson, WriterPlacesCommasAndNests) {
  wh::JsonWriter json;
  json.begin_object().key("a").number(1).key("b").begin_array().string("x").null().boolean(true);
  json.begin_object().end_object().end_array().key("c").begin_array().end_array().end_object();
  EXPECT_EQ(json.text(), R"({"a":1,"b":["x",null,true,{}],"c":[]})");
}

TEST(WebhookJson, ParsesWhatTheWriterWrites) {
  for (std::string text : {std::string("plain"), std::string("\"\\/\b\f\n\r\t", 9),
                           std::string("\x01\x7f \xc2\x85 \xe2\x80\xa8 \xf0\x9f\x98\x80", 14)}) {
    auto parsed = wh::parse_json(encoded(text));
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_NE(parsed->as_string(), nullptr);
    EXPECT_EQ(*parsed->as_string(), text);
  }
}

TEST(WebhookJson, ParsesObjectsArraysNumbersAndSurrogatePairs) {
  auto parsed = wh::parse_json(
      R"( {"id": "j-1", "n": [0, -1.5e3, 2E+2], "ok": true, "no": null, "s": "\uD83D\ude00\u00e9"} )");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed->member("id")->as_string(), "j-1");
  EXPECT_EQ(*parsed->member("s")->as_string(), "\xf0\x9f\x98\x80\xc3\xa9");
  EXPECT_EQ(parsed->member("missing"), nullptr);
  const auto& numbers = std::get<wh::JsonArray>(parsed->member("n")->value);
  EXPECT_EQ(std::get<wh::JsonValue::Number>(numbers.at(1).value).text, "-1.5e3");
}

TEST(WebhookJson, RefusesMalformedInput) {
  std::map<std::string, std::string> cases = {
      {"", "unexpected end"},
      {"{\"a\":1} x", "text after the value"},
      {"{\"a\":1,\"a\":2}", "appears twice"},
      {"\"a\nb\"", "control character"},
      {"\"\xff\"", "invalid UTF-8"},
      {R"("\ud800")", "lone high surrogate"},
      {R"("\udc00")", "lone low surrogate"},
      {R"("\x")", "bad escape"},
      {"01", "text after the value"},
      {"-", "expected a digit"},
      {"1.", "expected a digit"},
      {"\"open", "unterminated"},
      {"tru", "unexpected character"},
      {"[1,]", "unexpected character"},
      {"{\"a\" 1}", "expected ':'"},
      {"{1:2}", "expected a key"},
  };
  for (const auto& [text, why] : cases) {
    auto parsed = wh::parse_json(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().message.find(why), std::string::npos)
        << text << ": " << parsed.error().message;
  }
}

TEST(WebhookJson, IsBounded) {
  EXPECT_FALSE(wh::parse_json(std::string(17, '[') + std::string(17, ']')));
  EXPECT_TRUE(wh::parse_json(std::string(16, '[') + std::string(16, ']')));
  std::string big = "\"" + std::string(64 * 1024, 'a') + "\"";
  auto parsed = wh::parse_json(big);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("at most 65536"), std::string::npos);
  std::string many = "{";
  for (int i = 0; i < 300; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  EXPECT_FALSE(wh::parse_json(many + "}"));
}

TEST(WebhookSignature, MatchesAnIndependentHmac) {
  // python3: hmac.new(b"k"*32, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
  EXPECT_EQ(wh::sign(std::string(32, 'k'), 1700000000, R"({"a":1})"),
            "t=1700000000, v1=6935b796c0fec66e5dee52c86c7fd1218a424c32f1adb239ff2893c31e54f033");
}

TEST(WebhookSignature, VerifiesAndRefuses) {
  std::string key(32, 's'), body = R"({"id":"x"})";
  std::int64_t now = 1800000000;
  std::string header = wh::sign(key, now - 10, body);
  EXPECT_EQ(wh::verify(header, key, body, now), wh::SignatureCheck::valid);
  EXPECT_EQ(wh::verify(header, key, body + " ", now), wh::SignatureCheck::mismatch);
  EXPECT_EQ(wh::verify(header, std::string(32, 't'), body, now), wh::SignatureCheck::mismatch);
  EXPECT_EQ(wh::verify("", key, body, now), wh::SignatureCheck::missing);
  EXPECT_EQ(wh::verify(wh::sign(key, now - 301, body), key, body, now),
            wh::SignatureCheck::expired);
  EXPECT_EQ(wh::verify(wh::sign(key, now + 301, body), key, body, now),
            wh::SignatureCheck::expired);
  EXPECT_EQ(wh::verify(wh::sign(key, now - 300, body), key, body, now), wh::SignatureCheck::valid);
  std::string v1 = header.substr(header.find("v1="));
  for (std::string bad : {std::string("v1=abc"), "t=x, " + v1, "t=1, t=2, " + v1,
                          std::string("t=1800000000"), "t=-5, " + v1, "garbage, " + v1})
    EXPECT_EQ(wh::verify(bad, key, body, now), wh::SignatureCheck::malformed) << bad;
  // A rolled key: several v1, one matches; upper-case hex and spacing are fine.
  std::string hex = header.substr(header.find("v1=") + 3);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string rolled =
      "t=" + std::to_string(now - 10) + ",v1=" + std::string(64, '0') + " , v1=" + hex;
  EXPECT_EQ(wh::verify(rolled, key, body, now), wh::SignatureCheck::valid) << rolled;
}

namespace {

const std::string kConfigHead = R"([server]
hostname = "gw.example"

[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[route]]
domains = ["example.test"]
connector = "hook"

[[connector]]
name = "hook"
type = "webhook"
)";

bh::Result<bh::Config> webhook_config(const std::string& keys) {
  return bh::parse_config(kConfigHead + keys, "gw.toml");
}

std::string error_of(const std::string& keys) {
  auto config = webhook_config(keys);
  return config ? std::string("(no error)") : config.error().message;
}

}  // namespace

TEST(WebhookSettings, ReadsValuesAndDefaults) {
  auto config = webhook_config(
      "url = \"https://Hooks.Example.com:8443/in?x=1\"\nsecret_file = \"/etc/bh/hook.key\"\n");
  ASSERT_TRUE(config) << config.error().message;
  const wh::WebhookSettings* s =
      bh::connectors::webhook_settings(config->connectors.at(0).spec.get());
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->url.https);
  EXPECT_EQ(s->url.host, "hooks.example.com");
  EXPECT_EQ(s->url.port, 8443);
  EXPECT_EQ(s->url.target, "/in?x=1");
  EXPECT_EQ(s->url.host_header(), "hooks.example.com:8443");
  EXPECT_EQ(s->timeout.count(), 30);
  EXPECT_EQ(s->max_connections, 10u);
  EXPECT_TRUE(s->include_attachments);
  EXPECT_FALSE(s->callbacks());

  config = webhook_config(
      "url = \"http://127.0.0.1:8080\"\nallow_http = true\nsecret_file = \"k\"\ntimeout = 5\n"
      "callback_listen = \"127.0.0.1:8025\"\ninclude_attachments = false\nmax_body = 4096\n");
  ASSERT_TRUE(config) << config.error().message;
  s = bh::connectors::webhook_settings(config->connectors.at(0).spec.get());
  EXPECT_FALSE(s->url.https);
  EXPECT_EQ(s->url.target, "/");
  EXPECT_EQ(s->url.port, 8080);
  EXPECT_TRUE(s->callbacks());
  EXPECT_EQ(s->callback_port, 8025);
  EXPECT_EQ(s->max_body, 4096u);
  wh::WebhookUrl v6;
  EXPECT_EQ(wh::parse_webhook_url("https://[::1]:9/h", false, v6), "");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.host_header(), "[::1]:9");
}

TEST(WebhookSettings, ErrorsNameFileLineAndKey) {
  const std::string key = "\nsecret_file = \"k\"\n";
  EXPECT_EQ(error_of("url = \"http://hooks.example.com/\"" + key),
            "gw.toml:15: connector[0].url: \"http://hooks.example.com/\" must start with "
            "https:// (http:// only with allow_http = true)");
  EXPECT_NE(error_of("url = \"https://user:pw@hooks.example.com/\"" + key)
                .find("connector[0].url: \"https://user:pw@hooks.example.com/\" must not carry a "
                      "user name or password"),
            std::string::npos);
  for (std::string url :
       {"ftp://h/", "https://h:0/", "https://h:99999/", "https://h:x/", "https:///p",
        "https://h/#f", "https://h/a b", "https://a..b/", "https://[::1/", "https://[zz]/"})
    EXPECT_NE(error_of("url = \"" + url + "\"" + key).find("gw.toml:15: connector[0].url: "),
              std::string::npos)
        << url;
  EXPECT_NE(error_of("url = \"https://h/\"\nsecret_file = \"k\"\nfrobnicate = 1\n")
                .find("gw.toml:17: connector[0].frobnicate: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("secret_file = \"k\"\n").find("connector[0].url: required key is missing"),
            std::string::npos);
  EXPECT_NE(error_of("url = \"https://h/\"\n").find("connector[0].secret_file: required key"),
            std::string::npos);
  EXPECT_NE(error_of("url = \"https://h/\"" + key + "timeout = 0\n")
                .find("connector[0].timeout: must be an integer from 1 to 3600"),
            std::string::npos);
  EXPECT_NE(error_of("url = \"https://h/\"" + key + "max_connections = 0\n")
                .find("connector[0].max_connections: must be an integer from 1 to 1000"),
            std::string::npos);
  for (std::string listen : {"localhost:8025", "127.0.0.1", "127.0.0.1:0", "nonsense"})
    EXPECT_NE(
        error_of("url = \"https://h/\"" + key + "callback_listen = \"" + listen + "\"\n")
            .find("gw.toml:17: connector[0].callback_listen: \"" + listen + "\" is not IP:PORT"),
        std::string::npos)
        << listen;
  EXPECT_NE(error_of("url = \"https://h/\"" + key + "callback_secret_file = \"c\"\n")
                .find("connector[0].callback_secret_file: needs callback_listen"),
            std::string::npos);
  EXPECT_NE(error_of("url = \"http://h/\"\nallow_http = true" + key + "ca_file = \"ca.pem\"\n")
                .find("connector[0].ca_file: is for https:// URLs only"),
            std::string::npos);
}

TEST(WebhookSettings, SecretFilesMustBeLongAndPrivate) {
  auto dir = std::filesystem::temp_directory_path() / ("bh-webhook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
    auto path = dir / name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
    return path.string();
  };
  std::string hex(64, 'a');
  auto good = wh::read_webhook_secret(write("good", hex + "\n", 0600), "secret_file");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(*good, hex);  // the final line end is not part of it
  auto open = wh::read_webhook_secret(write("open", hex, 0640), "secret_file");
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("permissions 0640 are too open"), std::string::npos);
  auto shortish = wh::read_webhook_secret(write("short", std::string(31, 'x') + "\n", 0600), "s");
  ASSERT_FALSE(shortish);
  EXPECT_NE(shortish.error().message.find("31 bytes; it must hold 32 to 4096"), std::string::npos);
  EXPECT_FALSE(wh::read_webhook_secret((dir / "absent").string(), "secret_file"));
  EXPECT_FALSE(wh::read_webhook_secret(dir.string(), "secret_file"));  // a directory
  std::filesystem::remove_all(dir);
}

TEST(WebhookAnswer, StatusesBecomeOutcomes) {
  auto r = wh::classify_answer({200, "OK", ""}, true, "h");
  EXPECT_EQ(r.outcome, Outcome::delivered);
  EXPECT_EQ(r.status, "2.0.0");
  EXPECT_EQ(r.diagnostic, "webhook said: 200 OK");
  EXPECT_EQ(r.remote_mta, "h");
  r = wh::classify_answer({202, "Accepted", R"({"id": "job-7"})"}, true, "h");
  EXPECT_EQ(r.outcome, Outcome::pending);
  EXPECT_EQ(r.reference, "job-7");
  EXPECT_EQ(wh::classify_answer({202, "Accepted", R"({"id": "job-7"})"}, false, "h").outcome,
            Outcome::delivered);
  for (std::string body : {"", "{}", R"({"id": ""})", R"({"id": 7})", R"({"id": "a b"})", "x"})
    EXPECT_EQ(wh::classify_answer({202, "Accepted", body}, true, "h").outcome, Outcome::delivered)
        << body;
  r = wh::classify_answer({400, "Bad Request", "no\nsuch\x1b[31m  thing"}, true, "h");
  EXPECT_EQ(r.outcome, Outcome::bounced);
  EXPECT_EQ(r.status, "5.0.0");
  EXPECT_EQ(r.diagnostic, "webhook said: 400 Bad Request: no such\\x1B[31m thing");
  r = wh::classify_answer({413, "", std::string(1000, 'z')}, true, "h");
  EXPECT_EQ(r.diagnostic, "webhook said: 413: " + std::string(200, 'z') + "...");
  for (unsigned status : {500u, 503u, 408u, 429u, 302u, 101u}) {
    r = wh::classify_answer({status, "X", ""}, true, "h");
    EXPECT_EQ(r.outcome, Outcome::deferred) << status;
    EXPECT_EQ(r.status, "4.0.0") << status;
  }
}

namespace {

struct FakeSink : bh::connectors::PendingSink {
  std::map<std::string, bh::connectors::RecipientResult> resolved;
  bool resolve(const std::string& connector, const std::string& reference,
               const bh::connectors::RecipientResult& result) override {
    if (connector != "hook" || reference == "unknown" || resolved.contains(reference)) return false;
    resolved[reference] = result;
    return true;
  }
};

const std::string kSecret(40, 'c');
constexpr std::int64_t kNow = 1800000000;

wh::CallbackAnswer call(FakeSink* sink, const std::string& body, std::string signature = "-",
                        std::string method = "POST", std::string target = "/callback") {
  if (signature == "-") signature = wh::sign(kSecret, kNow, body);
  return wh::handle_callback({method, target, signature, body}, kSecret, kNow, sink, "hook");
}

}  // namespace

TEST(WebhookCallback, ResolvesSignedReports) {
  FakeSink sink;
  auto answer = call(&sink, R"({"id":"job-1","status":"delivered","detail":"faxed, 3 pages"})");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(sink.resolved.at("job-1").outcome, Outcome::delivered);
  EXPECT_EQ(sink.resolved.at("job-1").status, "2.0.0");
  EXPECT_EQ(sink.resolved.at("job-1").diagnostic, "webhook callback: faxed, 3 pages");
  answer = call(&sink, R"({"id":"job-2","status":"failed","detail":"line\nbusy"})");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(sink.resolved.at("job-2").outcome, Outcome::bounced);
  EXPECT_EQ(sink.resolved.at("job-2").status, "5.0.0");
  EXPECT_EQ(sink.resolved.at("job-2").diagnostic, "webhook callback: line\\x0Abusy");
  // The sink could not record it (the fake refuses repeats and unknown ids,
  // as a failing store would): the service is asked to send it again.
  EXPECT_EQ(call(&sink, R"({"id":"job-2","status":"failed"})").status, 503u);
  EXPECT_EQ(call(&sink, R"({"id":"unknown","status":"failed"})").status, 503u);
  EXPECT_EQ(call(nullptr, R"({"id":"job-3","status":"failed"})").status, 503u);
}

TEST(WebhookCallback, RefusesWhatItCannotTrust) {
  FakeSink sink;
  std::string body = R"({"id":"job-1","status":"delivered"})";
  EXPECT_EQ(call(&sink, body, "").status, 401u);
  EXPECT_EQ(call(&sink, body, wh::sign(std::string(40, 'x'), kNow, body)).status, 401u);
  EXPECT_EQ(call(&sink, body, wh::sign(kSecret, kNow - 301, body)).status, 401u);
  EXPECT_EQ(call(&sink, body, "t=1, v1=zz").status, 401u);
  EXPECT_EQ(call(&sink, body, "-", "GET").status, 405u);
  EXPECT_EQ(call(&sink, body, "-", "POST", "/other").status, 404u);
  for (std::string bad :
       {"{", "[]", R"({"id":"a"})", R"({"id":"a","status":"lost"})", R"({"status":"failed"})",
        R"({"id":"a b","status":"failed"})", R"({"id":"a","status":"failed","detail":3})",
        R"({"id":"a","id":"b","status":"failed"})"})
    EXPECT_EQ(call(&sink, bad).status, 400u) << bad;
  EXPECT_TRUE(sink.resolved.empty());
}
