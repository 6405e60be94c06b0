// What the transport rule tests share (transport_rules_test.cpp,
// transport_rules_config_test.cpp): a base configuration, [[rule]] tables
// read with it, and a message to evaluate the rules on.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mail/header_block.hpp"
#include "policy/transport_rules.hpp"
#include "server/config.hpp"

namespace bh::rules_test {

inline constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";

inline const std::string kBase = R"([[listener]]
address = "127.0.0.1:2525"
starttls = false

[[inbound_connector]]
name = "partner"
kind = "partner"
ip_ranges = ["192.0.2.0/24"]

[[route]]
domains = ["example.test", "*.example.org"]
connector = "files"

[[connector]]
name = "files"
type = "discard"

[[connector]]
name = "fax"
type = "discard"

[[connector]]
name = "sms"
type = "discard"
)";

// The line (1-based) of the first occurrence of `marker` in text.
inline std::size_t line_of(const std::string& text, std::string_view marker) {
  std::size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  return 1 + std::count(text.begin(), text.begin() + at, '\n');
}

inline std::shared_ptr<const TransportRules> rules(const std::string& toml) {
  auto config = parse_config(kBase + toml, "t.toml");
  EXPECT_TRUE(config) << config.error().message;
  return config ? config->rules : std::make_shared<const TransportRules>();
}

inline std::string errors(const std::string& toml) {
  auto config = parse_config(kBase + toml, "t.toml");
  EXPECT_FALSE(config);
  return config ? std::string() : config.error().message;
}

inline Address address(std::string_view text) {
  std::size_t at = text.rfind('@');
  return {std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
}

// A message for the rules: header fields "Name: value" and the envelope.
struct Message {
  std::string content = "Subject: hello\r\n\r\nbody\r\n";
  HeaderBlock header{""};
  RuleInput input;

  Message() {
    input.sender = address("alice@contoso.test");
    input.recipients = {address("bob@example.test")};
  }
  RuleInput& with_header(std::string fields) {
    content = fields + "\r\nbody\r\n";
    return input;
  }
  RuleOutcome run(const TransportRules& rules) {
    header = HeaderBlock(content);
    input.header = &header;
    return rules.evaluate(input);
  }
};

inline std::vector<std::string> matched(const std::string& toml, Message m) {
  return m.run(*rules(toml)).matched;
}

using Names = std::vector<std::string>;

}  // namespace bh::rules_test
