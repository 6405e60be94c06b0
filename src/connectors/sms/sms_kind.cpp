#include "connectors/sms/sms_kind.hpp"

#include <arpa/inet.h>
#include <re2/re2.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "connectors/destination_rules.hpp"
#include "connectors/sms/smpp_pdu_fields.hpp"
#include "connectors/sms/sms_connector.hpp"
#include "connectors/sms/sms_outbound.hpp"
#include "connectors/sms/sms_store.hpp"
#include "directory/phone_number.hpp"
#include "mail/address.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"
#include "util/secret_file.hpp"

namespace bh::connectors {
namespace {

using sms::BindSettings;
using sms::SmsSettings;

// The field limits (system_id, password, system_type) are the codec's:
// smpp_pdu_fields.hpp.
namespace fields = sms::smpp::fields;
constexpr int kMaxBindCount = 16;
// A password file is read whole; more than this is not a password file
// (the 8-character check comes after the line end is dropped).
constexpr std::size_t kMaxPasswordFileBytes = 1024;

// The password of a bind: the file's first line, at most 8 characters.
Result<std::string> read_password(const BindSettings& bind) {
  if (bind.password_file.empty()) return std::string();
  auto bytes = read_secret_file(bind.password_file, "password_file", kMaxPasswordFileBytes);
  if (!bytes) return bytes.error();
  std::string password = *bytes;
  if (std::size_t end = password.find_first_of("\r\n"); end != std::string::npos)
    password.resize(end);
  if (password.size() > fields::kPassword)
    return Error{fmt::format("password_file {}: the password has {} characters; SMPP allows {}",
                             bind.password_file, password.size(), fields::kPassword)};
  if (password.find('\0') != std::string::npos)
    return Error{
        fmt::format("password_file {}: the password contains a NUL byte", bind.password_file)};
  return password;
}

class SmsSpec final : public ConnectorSpec {
 public:
  Result<std::shared_ptr<Connector>> build() const override {
    SmsSettings with_passwords = settings;
    for (BindSettings& bind : with_passwords.binds) {
      auto password = read_password(bind);
      if (!password) return Error{"connector " + settings.name + ": " + password.error().message};
      bind.password = std::move(*password);
    }
    auto connector = sms::SmsConnector::create(with_passwords);
    if (!connector) return connector.error();
    return std::shared_ptr<Connector>(*connector);
  }
  std::vector<std::string> check_resources() const override {
    std::vector<std::string> problems;
    for (const std::string& problem : sms::check_sms_resources(settings))
      problems.push_back("connector " + settings.name + ": " + problem);
    return problems;
  }
  SmsSettings settings;
};

template <typename Rep, typename Period>
void duration(TableReader& r, const std::string& key, std::chrono::duration<Rep, Period>& out,
              std::int64_t min, std::int64_t max) {
  std::int64_t value = out.count();
  r.number(key, value, min, max);
  out = std::chrono::duration<Rep, Period>(value);
}

// A choice among names: "must be one of ...".
template <typename Value>
void choice(TableReader& r, const std::string& key, Value& out,
            std::initializer_list<std::pair<std::string_view, Value>> names) {
  std::string text;
  r.text(key, text);
  const toml::node* node = r.node(key);
  if (!node || !node->is_string()) return;
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (name == text) {
      out = value;
      return;
    }
    allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  }
  r.error(*node, key, fmt::format("\"{}\" is not one of {}", printable(text), allowed));
}

// A string of printable ASCII (SMPP C-Octet strings) of min..max bytes.
void ascii_text(TableReader& r, const std::string& key, std::string& out, std::size_t min,
                std::size_t max, bool required) {
  r.text(key, out, required);
  const toml::node* node = r.node(key);
  if (!node || !node->is_string()) return;
  bool printable_ascii = true;
  for (unsigned char c : out) printable_ascii = printable_ascii && c >= 0x20 && c < 0x7F;
  if (!printable_ascii)
    r.error(*node, key, "\"" + printable(out) + "\" must be printable ASCII");
  else if (out.size() < min || out.size() > max)
    r.error(*node, key,
            fmt::format("\"{}\" has {} characters; it must have {} to {}", printable(out),
                        out.size(), min, max));
}

void host(TableReader& r, const std::string& key, std::string& out) {
  r.text(key, out);
  const toml::node* node = r.node(key);
  if (!node || !node->is_string()) return;
  unsigned char binary[sizeof(in6_addr)];
  bool ip =
      inet_pton(AF_INET, out.c_str(), binary) == 1 || inet_pton(AF_INET6, out.c_str(), binary) == 1;
  if (std::string problem = hostname_problem(out); !ip && !problem.empty())
    r.error(*node, key,
            "\"" + printable(out) + "\" " + problem +
                " (a host name or IP address; the port is "
                "port)");
}

// [[connector.bind]]: one SMPP bind, or `count` identical ones.
void read_binds(TableReader& parent, SmsSettings& s) {
  each_table(parent, parent.source(), parent.errors(), "bind", [&](TableReader& r) {
    BindSettings b;
    host(r, "host", b.host);
    r.number("port", b.port, 1, 65535);
    ascii_text(r, "system_id", b.system_id, 1, fields::kSystemId, true);
    r.path("password_file", b.password_file);
    ascii_text(r, "system_type", b.system_type, 0, fields::kSystemType, false);
    r.boolean("tls", b.tls);
    r.path("tls_ca_file", b.tls_ca_file);
    r.text("tls_server_name", b.tls_server_name);
    r.path("tls_certificate", b.tls_certificate);
    r.path("tls_key", b.tls_key);
    for (const char* key : {"tls_ca_file", "tls_server_name", "tls_certificate", "tls_key"})
      if (const toml::node* node = r.table().get(key); node && !b.tls)
        r.error(*node, key, "is for tls = true only");
    if (b.tls_certificate.empty() != b.tls_key.empty()) {
      const char* given = b.tls_key.empty() ? "tls_certificate" : "tls_key";
      r.error(*r.node(given), given, "needs both tls_certificate and tls_key");
    }
    int count = 1;
    r.number("count", count, 1, kMaxBindCount);
    for (int i = 0; i < count; ++i) s.binds.push_back(b);
  });
  if (!parent.table().contains("bind"))
    parent.missing("bind");  // [[connector.bind]]: the SMSC to talk to
}

void read_domains(TableReader& r, SmsSettings& s) {
  r.strings("domains", s.domains, true);
  if (const toml::node* node = r.node("domains"); node && node->is_array()) {
    const toml::array& items = *node->as_array();
    for (std::size_t i = 0; i < items.size() && i < s.domains.size(); ++i)
      if (std::string problem = hostname_problem(s.domains[i]); !problem.empty())
        r.error(*items.get(i), "domains", "\"" + printable(s.domains[i]) + "\" " + problem);
  }
  r.text("default_region", s.default_region);
  if (const toml::node* node = r.node("default_region");
      node && node->is_string() && !directory::known_region(s.default_region))
    r.error(*node, "default_region",
            "\"" + printable(s.default_region) +
                "\" is not a region libphonenumber knows (ISO 3166 code in upper case, e.g. "
                "\"DE\")");
}

void read_text_rules(TableReader& r, SmsSettings& s) {
  choice<sms::TextSource>(r, "text_source", s.text_source,
                          {{"body", sms::TextSource::body},
                           {"subject", sms::TextSource::subject},
                           {"subject_and_body", sms::TextSource::subject_and_body}});
  r.boolean("trim_quotes", s.trim_quotes);
  r.boolean("trim_signature", s.trim_signature);
  r.strings("cut_patterns", s.cut_patterns, false);
  if (const toml::node* node = r.node("cut_patterns"); node && node->is_array()) {
    const toml::array& items = *node->as_array();
    RE2::Options options;
    options.set_log_errors(false);
    for (std::size_t i = 0; i < items.size() && i < s.cut_patterns.size(); ++i)
      if (RE2 regex(s.cut_patterns[i], options); !regex.ok())
        r.error(*items.get(i), "cut_patterns",
                fmt::format("\"{}\" is not a valid RE2 pattern: {}", printable(s.cut_patterns[i]),
                            regex.error()));
  }
}

// An E.164 number (any form to_e164 reads, kept as E.164) or an
// alphanumeric sender id, checked by the same function that makes the
// source_addr at delivery (sms_outbound.hpp source_address_of).
void read_source_address(TableReader& r, SmsSettings& s) {
  r.text("source_address", s.source_address);
  const toml::node* node = r.node("source_address");
  if (!node || !node->is_string() || s.source_address.empty()) return;
  const std::string given = s.source_address;
  bool letters = false;
  for (unsigned char c : given)
    letters = letters || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  if (given.front() == '+' || !letters) {
    auto number = directory::to_e164(given, s.default_region);
    if (!number)
      return r.error(*node, "source_address",
                     fmt::format("\"{}\" is not a phone number ({}) nor an alphanumeric sender id",
                                 printable(given), number.error().message));
    s.source_address = *number;
  }
  if (auto source = sms::source_address_of(s.source_address); !source)
    r.error(*node, "source_address",
            fmt::format("\"{}\" is not a sender an SMS can carry: {}", printable(given),
                        source.error().message));
}

// "YYMMDDhhmmsstnnp" (SMPP 3.4 7.1.1): 15 digits, then R (relative) or
// + / - (absolute, quarter hours from UTC).
void read_validity_period(TableReader& r, SmsSettings& s) {
  r.text("validity_period", s.validity_period);
  const toml::node* node = r.node("validity_period");
  if (!node || !node->is_string() || s.validity_period.empty()) return;
  const std::string& v = s.validity_period;
  bool digits = v.size() == 16;
  for (std::size_t i = 0; digits && i < 15; ++i) digits = v[i] >= '0' && v[i] <= '9';
  if (!digits || (v[15] != 'R' && v[15] != '+' && v[15] != '-'))
    r.error(*node, "validity_period",
            fmt::format("\"{}\" is not an SMPP time (16 characters \"YYMMDDhhmmsstnnp\", p R for "
                        "relative or + / -, e.g. \"000001000000000R\" for one day)",
                        printable(v)));
}

void read_submission(TableReader& r, SmsSettings& s) {
  choice<sms::LongMessages>(r, "long_messages", s.long_messages,
                            {{"udh", sms::LongMessages::udh},
                             {"sar", sms::LongMessages::sar},
                             {"message_payload", sms::LongMessages::message_payload}});
  r.number("max_parts", s.max_parts, 1, 255);
  r.number("max_payload_bytes", s.max_payload_bytes, 140, 65535);
  choice<sms::DefaultAlphabet>(r, "default_alphabet", s.default_alphabet,
                               {{"gsm7", sms::DefaultAlphabet::gsm7},
                                {"latin1", sms::DefaultAlphabet::latin1},
                                {"ascii", sms::DefaultAlphabet::ascii}});
  read_source_address(r, s);
  r.boolean("request_receipts", s.request_receipts);
  choice<sms::ReceiptIds>(r, "receipt_ids", s.receipt_ids,
                          {{"same", sms::ReceiptIds::same},
                           {"hex_to_decimal", sms::ReceiptIds::hex_to_decimal},
                           {"decimal_to_hex", sms::ReceiptIds::decimal_to_hex}});
  read_validity_period(r, s);
  choice<sms::SuccessNotice>(
      r, "success_notice", s.success_notice,
      {{"dsn", sms::SuccessNotice::dsn}, {"report", sms::SuccessNotice::report}});
  r.number("max_message_size", s.max_message_bytes, 1024, std::int64_t{1} << 30);
  r.number("window", s.window, 1, 1000);
}

// A pair of durations where the first must not exceed the second.
void ordered(TableReader& r, const char* low_key, std::chrono::milliseconds low,
             const char* high_key, std::chrono::milliseconds high) {
  if (low <= high) return;
  const char* key = r.table().contains(high_key) ? high_key : low_key;
  const toml::node* node = r.table().get(key);
  r.error(node ? *node : r.table(), key,
          fmt::format("{} ({} ms) must not be less than {} ({} ms)", high_key, high.count(),
                      low_key, low.count()));
}

void read_timing(TableReader& r, sms::SmppTiming& t) {
  duration(r, "connect_timeout", t.connect_timeout, 1, 300);
  duration(r, "response_timeout", t.response_timeout, 1, 600);
  duration(r, "enquire_link_interval", t.enquire_link_interval, 5, 3600);
  duration(r, "submit_wait", t.submit_wait, 1, 3600);
  duration(r, "reconnect_min_ms", t.reconnect_min, 10, 3600000);
  duration(r, "reconnect_max_ms", t.reconnect_max, 10, 3600000);
  duration(r, "throttle_backoff_ms", t.throttle_backoff, 10, 3600000);
  duration(r, "throttle_backoff_max_ms", t.throttle_backoff_max, 10, 3600000);
  ordered(r, "reconnect_min_ms", t.reconnect_min, "reconnect_max_ms", t.reconnect_max);
  ordered(r, "throttle_backoff_ms", t.throttle_backoff, "throttle_backoff_max_ms",
          t.throttle_backoff_max);
}

// A mailbox of the inbound side, checked as the mail path reads it
// (sms_inbound_parties.cpp, mail/address.hpp parse_path): catch_all is a recipient
// (UTF-8 allowed), inbound_sender the envelope sender (ASCII). Whether the
// directory knows catch_all is seen only at run time (sms_inbound_parties.cpp).
void mailbox(TableReader& r, const char* key, std::string& out, bool allow_utf8) {
  r.text(key, out);
  const toml::node* node = r.node(key);
  if (!node || !node->is_string() || out.empty()) return;
  PathParse parsed = parse_path("<" + out + ">", false, allow_utf8);
  if (parsed.address && !parsed.postmaster && parsed.rest.empty()) return;
  std::string why = "it is not local@domain";
  if (parsed.postmaster)
    why = "it has no domain";
  else if (!parsed.address && parsed.error == PathError::too_long)
    why = "it is too long";
  else if (!parsed.address && parsed.error == PathError::non_ascii)
    why = "the envelope sender must be ASCII";
  r.error(*node, key, fmt::format("\"{}\" is not a mail address: {}", printable(out), why));
}

void read_inbound(TableReader& r, SmsSettings& s) {
  sms::InboundSettings& in = s.inbound;
  r.text("reply_domain", in.reply_domain);
  if (const toml::node* node = r.node("reply_domain"); node && node->is_string())
    if (std::string problem = hostname_problem(in.reply_domain); !problem.empty())
      r.error(*node, "reply_domain", "\"" + printable(in.reply_domain) + "\" " + problem);
  mailbox(r, "catch_all", in.catch_all, true);
  mailbox(r, "inbound_sender", in.sender, false);
  duration(r, "reassembly_timeout", in.reassembly_timeout, 10, 86400);
  duration(r, "inbound_duplicate_window", in.duplicate_window, 10, sms::kSeenSeconds);
  if (in.reply_domain.empty() && !s.domains.empty()) in.reply_domain = s.domains.front();
  if (in.sender.empty()) in.sender = "postmaster@" + s.hostname;
}

std::shared_ptr<const ConnectorSpec> read(TableReader& r, const KindEnvironment& env) {
  auto spec = std::make_shared<SmsSpec>();
  SmsSettings& s = spec->settings;
  s.name = env.connector_name;
  s.hostname = env.hostname;
  read_domains(r, s);
  read_destination_rules(r, s.destinations);
  read_text_rules(r, s);
  read_submission(r, s);
  read_timing(r, s.timing);
  read_inbound(r, s);
  read_binds(r, s);
  return spec;
}

void check_readable(const std::string& file, const char* key, std::vector<std::string>& problems) {
  if (!file.empty() && access(file.c_str(), R_OK) != 0)
    problems.push_back(fmt::format("{} {}: cannot be read", key, file));
}

}  // namespace

const sms::SmsSettings* sms_settings(const ConnectorSpec* spec) {
  auto* found = dynamic_cast<const SmsSpec*>(spec);
  return found ? &found->settings : nullptr;
}

KindDefinition sms_kind() {
  return {"sms", read, "sms"};  // every SMS costs: its senders need the sms permission
}

namespace sms {

std::vector<std::string> check_sms_resources(const SmsSettings& settings) {
  std::vector<std::string> problems;
  // count = n repeats a bind: report each file once.
  std::vector<std::string> seen;
  auto once = [&](const std::string& problem) {
    if (std::find(seen.begin(), seen.end(), problem) != seen.end()) return;
    seen.push_back(problem);
    problems.push_back(problem);
  };
  for (const BindSettings& bind : settings.binds) {
    std::vector<std::string> found;
    if (auto password = read_password(bind); !password) found.push_back(password.error().message);
    check_readable(bind.tls_ca_file, "tls_ca_file", found);
    check_readable(bind.tls_certificate, "tls_certificate", found);
    check_readable(bind.tls_key, "tls_key", found);
    for (const std::string& problem : found) once(problem);
  }
  return problems;
}

}  // namespace sms
}  // namespace bh::connectors
