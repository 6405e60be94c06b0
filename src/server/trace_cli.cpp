#include "server/trace_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "server/config.hpp"
#include "store/store_error.hpp"
#include "trace/time_text.hpp"
#include "trace/trace_json.hpp"
#include "trace/trace_store.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

struct TraceArgs {
  std::string config;
  std::string id;
  trace::MessageQuery query;
  std::string since;
  bool json = false;
};

std::string recipients_text(const trace::MessageSummary& m) {
  std::string out;
  for (const auto& r : m.recipients) out += (out.empty() ? "" : ",") + r.address;
  return out;
}

void print_message(const trace::MessageTrace& t, std::ostream& out) {
  const trace::MessageSummary& m = t.summary;
  out << "message " << printable(m.id) << " status=" << printable(m.status)
      << " node=" << printable(m.node) << "\n"
      << "  sender=" << (m.sender.empty() ? "<>" : printable(m.sender))
      << " tenant=" << (m.tenant.empty() ? "-" : printable(m.tenant)) << "\n"
      << "  first=" << trace::format_time_ms(m.first_ms)
      << " last=" << trace::format_time_ms(m.last_ms) << "\n";
  if (!m.subject.empty()) out << "  subject=" << printable(m.subject) << "\n";
  for (const auto& r : m.recipients)
    out << "  recipient " << printable(r.address) << " " << printable(r.status)
        << (r.connector.empty() ? "" : " via " + printable(r.connector)) << "\n";
  out << "events:\n";
  for (const trace::TraceEvent& e : t.events) {
    out << "  " << trace::format_time_ms(e.time_ms) << " " << trace::kind_name(e.kind);
    if (!e.stage.empty()) out << " " << printable(e.stage);
    if (!e.recipient.empty()) out << " to=" << printable(e.recipient);
    if (!e.connector.empty()) out << " connector=" << printable(e.connector);
    if (e.code != 0) out << " code=" << e.code;
    if (!e.enhanced.empty()) out << " status=" << printable(e.enhanced);
    if (e.duration_ms >= 0) out << " duration_ms=" << e.duration_ms;
    if (!e.detail.empty()) out << " \"" << printable(e.detail) << "\"";
    if (e.kind == trace::Kind::received || e.kind == trace::Kind::refused)
      out << " sender=" << (e.sender.empty() ? "<>" : printable(e.sender));
    for (const auto& [key, value] : e.facts)
      out << " " << printable(key) << "=" << printable(value);
    if (!e.node.empty() && e.node != m.node) out << " node=" << printable(e.node);
    out << "\n";
  }
}

void print_page(const trace::MessagePage& page, std::ostream& out) {
  for (const trace::MessageSummary& m : page.messages)
    out << printable(m.id) << " " << trace::format_time_ms(m.first_ms) << " " << printable(m.status)
        << " " << (m.sender.empty() ? "<>" : printable(m.sender)) << " -> "
        << printable(recipients_text(m))
        << (m.subject.empty() ? "" : " \"" + printable(m.subject) + "\"") << "\n";
  out << "-- " << page.messages.size() << " message(s)";
  if (!page.next.empty()) out << "; more with --after " << printable(page.next);
  out << "\n";
}

}  // namespace

CLI::App* add_trace_command(CLI::App& app) {
  auto* trace = app.add_subcommand("trace", "The message trace: one message, or a search");
  trace->set_help_flag();
  trace->prefix_command();  // everything after "trace" is trace_command's
  return trace;
}

int trace_command(CLI::App& sub, std::ostream& out, std::ostream& err) {
  TraceArgs args;
  CLI::App app{
      "The message trace: one message by id, or messages by sender, recipient, tenant, "
      "time or status (newest first)",
      "bridgehead trace"};
  app.add_option("-c,--config", args.config, "TOML configuration file (default: the quickstart)");
  app.add_option("id", args.id, "a queue id (as in the logs and the SMTP reply)");
  app.add_option("--sender", args.query.sender, "envelope sender");
  app.add_option("--recipient", args.query.recipient, "recipient");
  app.add_option("--tenant", args.query.tenant, "tenant id");
  app.add_option("--since", args.since, "unix seconds or RFC 3339 (2026-12-01T10:00:00Z)");
  app.add_option("--status", args.query.status, "the message status: " + trace::status_list());
  app.add_option("--limit", args.query.limit, "messages per page (1-1000, default 100)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--after", args.query.after, "the last id of the previous page");
  app.add_flag("--json", args.json, "print the JSON the admin API answers with");
  std::vector<std::string> remaining = sub.remaining();
  std::reverse(remaining.begin(), remaining.end());  // CLI11 parses a reversed vector
  try {
    app.parse(remaining);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "trace: " << e.what() << "\n";
    return 2;
  }
  bool searching = !args.query.sender.empty() || !args.query.recipient.empty() ||
                   !args.query.tenant.empty() || !args.since.empty() || !args.query.status.empty();
  if (args.id.empty() == !searching) {
    err << "trace: give a queue id, or at least one of --sender, --recipient, --tenant, "
           "--since, --status\n";
    return 2;
  }
  if (!args.since.empty()) {
    auto at = trace::parse_time(args.since);
    if (!at) {
      err << "trace: --since: not a time: unix seconds or RFC 3339 (2026-12-01T10:00:00Z)\n";
      return 2;
    }
    args.query.since_ms = *at;
  }
  if (!args.query.status.empty() && !trace::valid_status(args.query.status)) {
    err << "trace: --status: not one of " << trace::status_list() << "\n";
    return 2;
  }
  auto config = args.config.empty() ? quickstart_config() : load_config_file(args.config);
  if (!config) {
    err << config.error().message << "\n";
    return 2;
  }
  auto database = store::open_database(config->store);
  if (!database) {
    err << "trace: " << database.error().message << "\n";
    return 1;
  }
  auto store = trace::TraceStore::open(*database);
  if (!store) {
    err << "trace: " << store.error().message << "\n";
    return 1;
  }
  if (!args.id.empty()) {
    auto found = (*store)->get(args.id);
    if (!found) {
      bool missing = store::is(found.error(), store::StoreErrc::not_found);
      err << "trace: "
          << (missing ? "no message " + printable(args.id) + " in the trace"
                      : found.error().message)
          << "\n";
      return 1;
    }
    if (args.json)
      out << trace::trace_json(*found) << "\n";
    else
      print_message(*found, out);
    return 0;
  }
  auto page = (*store)->list(args.query);
  if (!page) {
    err << "trace: " << page.error().message << "\n";
    return 1;
  }
  if (args.json)
    out << trace::page_json(*page) << "\n";
  else
    print_page(*page, out);
  return page->messages.empty() ? 1 : 0;
}

}  // namespace bh
