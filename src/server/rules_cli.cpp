#include "server/rules_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "policy/transport_rules.hpp"
#include "policy/trust_policy.hpp"
#include "server/config.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

std::string in_quotes(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

// "user@example.com" or "<user@example.com>"; "<>" or "" for the null sender.
std::optional<Address> parse_address(std::string text, bool allow_null, const Config& config) {
  if (allow_null && text.empty()) return Address{};
  if (!text.starts_with('<')) text = "<" + text + ">";
  PathParse parsed = parse_path(text, allow_null, true, config.limits.local_part);
  if (!parsed.address || !parsed.rest.empty()) return std::nullopt;
  if (parsed.postmaster) {  // as the session does for RCPT TO:<Postmaster>
    std::string postmaster =
        config.postmaster.empty() ? "postmaster@" + config.hostname : config.postmaster;
    return parse_address(postmaster, false, config);
  }
  return parsed.address;
}

// The message's header and body as the session holds them: CRLF line ends.
std::string crlf(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(text[i]);
  }
  return out;
}

Result<std::string> build_content(const RulesTest& test) {
  std::string content;
  for (const std::string& header : test.headers) {
    std::size_t colon = header.find(':');
    std::string name = colon == std::string::npos ? header : header.substr(0, colon);
    if (colon == std::string::npos || !is_field_name(name))
      return Error{"--header " + in_quotes(header) + ": must be \"Name: value\""};
    std::string value = header.substr(colon + 1);
    if (value.starts_with(' ')) value.erase(0, 1);
    if (std::string problem = header_edit_problem(name, value); !problem.empty())
      return Error{"--header " + in_quotes(header) + ": " + problem};
    content += name + ": " + value + "\r\n";
  }
  if (test.message.empty()) return content + "\r\n";
  std::ifstream in(test.message, std::ios::binary);
  if (!in) return Error{"--message " + in_quotes(test.message) + ": cannot open"};
  std::ostringstream text;
  text << in.rdbuf();
  return content + crlf(text.str());
}

Result<int> evaluate(const RulesTest& test, const Config& config, std::ostream& out) {
  RuleInput input;
  auto sender = parse_address(test.from == "<>" ? "" : test.from, true, config);
  if (!sender) return Error{"--from " + in_quotes(test.from) + ": not an address"};
  input.sender = *sender;
  if (test.to.empty()) return Error{"at least one --to is required"};
  if (!test.connector.empty() && !config.trust.connector(test.connector))
    return Error{"--connector " + in_quotes(test.connector) + ": no such inbound_connector"};
  input.inbound_connector = test.connector;
  input.tenant = to_lower_ascii(test.tenant);
  if (!input.tenant.empty() && !is_tenant_guid(input.tenant))
    return Error{"--tenant " + in_quotes(test.tenant) + ": not a tenant id (GUID)"};
  if (!test.ip.empty()) {
    input.client_ip = IpAddress::parse(test.ip);
    if (!input.client_ip) return Error{"--ip " + in_quotes(test.ip) + ": not an IP address"};
  }
  input.stamp_valid = test.stamp_valid;
  auto built = build_content(test);
  if (!built) return built.error();
  std::string content = std::move(*built);
  HeaderBlock header(content);
  input.header = &header;
  input.size = test.size.value_or(content.size());

  // What RCPT TO refuses never reaches the rules: no route, or routing
  // syntax the route does not allow (smtp/server/session_envelope.cpp).
  RoutingTable table(config.routes);
  struct Recipient {
    std::string text;
    const Route* route = nullptr;
    std::string refused;
    std::size_t input_index = 0;
  };
  std::vector<Recipient> recipients;
  for (const std::string& to : test.to) {
    auto address = parse_address(to, false, config);
    if (!address) return Error{"--to " + in_quotes(to) + ": not an address"};
    Recipient& r = recipients.emplace_back();
    r.text = address->path();
    r.route = table.find(*address);
    if (!r.route)
      r.refused = "no route";
    else if (has_routing_syntax(*address) && !r.route->allow_routed_addresses)
      r.refused = "sender-specified routing is not allowed";
    if (!r.refused.empty()) continue;
    r.input_index = input.recipients.size();
    input.recipients.push_back(*address);
  }

  const auto& rules = config.rules->rules();
  RuleOutcome outcome = config.rules->evaluate(input);
  std::size_t disabled =
      std::count_if(rules.begin(), rules.end(), [](const auto& r) { return !r.enabled; });
  out << fmt::format("rules: {} in {}{}\n", rules.size(), printable(config.source),
                     disabled ? fmt::format(" ({} disabled)", disabled) : "");
  if (outcome.matched.empty()) out << "matched: none\n";
  for (const std::string& name : outcome.matched) {
    auto rule =
        std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.name == name; });
    out << fmt::format("matched: {} (rule[{}], line {})\n", in_quotes(name), rule - rules.begin(),
                       rule == rules.end() ? 0 : rule->line);
  }
  for (const HeaderEdit& edit : outcome.header_edits) {
    if (edit.kind == HeaderEdit::Kind::remove)
      out << "header: remove " << in_quotes(edit.name) << "\n";
    else
      out << "header: " << (edit.kind == HeaderEdit::Kind::add ? "add " : "set ")
          << in_quotes(edit.name + ": " + edit.value) << "\n";
  }
  std::string rejection;
  if (outcome.reject) {
    rejection = fmt::format("{} {} {}", outcome.reject->code, outcome.reject->enhanced,
                            printable(outcome.reject->text));
    out << "rejected: " << rejection << " (rule " << in_quotes(outcome.rejected_by) << ")\n";
  }
  for (const Recipient& r : recipients) {
    out << "to " << printable(r.text) << ": ";
    if (!r.refused.empty())
      out << "refused: " << r.refused << "\n";
    else if (outcome.reject)
      out << "refused: " << rejection << "\n";
    else if (const auto& routed = outcome.routes[r.input_index])
      out << printable(*routed) << " (rule " << in_quotes(outcome.routed_by[r.input_index])
          << ")\n";
    else
      out << printable(r.route->connector) << " (routing table)\n";
  }
  return 0;
}

}  // namespace

int rules_test(const RulesTest& test, std::ostream& out, std::ostream& err) {
  auto config = load_config_file(test.config);
  if (!config) {
    err << config.error().message << "\n";
    return 2;
  }
  auto evaluated = evaluate(test, *config, out);
  if (evaluated) return *evaluated;
  err << "rules test: " << evaluated.error().message << "\n";
  return 2;
}

CLI::App* add_rules_command(CLI::App& app) {
  auto* rules = app.add_subcommand("rules", "Transport rules (docs/rules.md)");
  rules->require_subcommand(1);
  auto* test = rules->add_subcommand(
      "test", "Dry run: which rules match a message, where each recipient goes");
  // Everything after "test" is left for rules_command (see the header).
  test->set_help_flag();
  test->prefix_command();
  return rules;
}

int rules_command(CLI::App& rules, std::ostream& out, std::ostream& err) {
  CLI::App* sub = rules.get_subcommand("test");
  RulesTest test;
  CLI::App app{
      "Dry run of the transport rules: which rules match a message, in order, and "
      "where each recipient would go",
      "bridgehead rules test"};
  app.add_option("-c,--config", test.config, "TOML configuration file")->required();
  app.add_option("--from", test.from, "envelope sender (\"<>\" or nothing: the null sender)");
  app.add_option("--to", test.to, "recipient (repeat for more)");
  app.add_option("--header", test.headers, "header field \"Name: value\" (repeat for more)");
  app.add_option("--message", test.message, "a message file whose header the rules read");
  app.add_option("--connector", test.connector, "inbound connector the message came through");
  app.add_option("--tenant", test.tenant, "tenant id the message was attributed to");
  app.add_option("--ip", test.ip, "client IP address");
  app.add_option("--size", test.size, "message size in bytes (default: the message described)");
  app.add_flag("--stamp-valid", test.stamp_valid, "the message has a valid processed stamp");
  std::vector<std::string> args = sub->remaining();
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "rules test: " << e.what() << "\n";
    return 2;
  }
  return rules_test(test, out, err);
}

}  // namespace bh
