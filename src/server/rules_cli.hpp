// `bridgehead rules test`: a dry run of the transport rules (docs/rules.md)
// for a message described on the command line: which rules match, in
// order, and where each recipient would go.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bh {

struct RulesTest {
  std::string config;  // the TOML file
  std::string from;    // "" or "<>": the null sender
  std::vector<std::string> to;
  std::vector<std::string> headers;  // "Name: value"
  std::string message;               // a message file whose header is used (LF or CRLF)
  std::string connector;             // inbound connector name
  std::string tenant;
  std::string ip;
  std::optional<std::uint64_t> size;  // default: the size of the message described
  bool stamp_valid = false;
};

// Exit status: 0 when evaluated (also when a rule rejects), 2 on a
// configuration error or a bad argument.
int rules_test(const RulesTest& test, std::ostream& out, std::ostream& err);

// Adds "rules" (with "test") to app. The arguments after "test" are parsed
// by rules_command itself, so that a bad one exits with 2 as well.
CLI::App* add_rules_command(CLI::App& app);
int rules_command(CLI::App& rules, std::ostream& out, std::ostream& err);

}  // namespace bh
