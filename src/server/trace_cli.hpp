// `bridgehead trace ID` and `bridgehead trace --sender ADDR | --recipient
// ADDR | --since TIME [--status S]` (docs/api.md): the message trace from
// the store the gateway writes ([store] of the configuration), as text or
// with --json the documents /v1/messages answers with.
#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace bh {

// Adds "trace" to app. The arguments after it are parsed by trace_command
// itself, so that a bad one exits with 2 as well.
CLI::App* add_trace_command(CLI::App& app);

// Exit status: 0 found; 1 no such message (or none matched), or a store
// error; 2 a bad argument or configuration.
int trace_command(CLI::App& trace, std::ostream& out, std::ostream& err);

}  // namespace bh
