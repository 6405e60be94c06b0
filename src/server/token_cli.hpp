// `bridgehead token create|list|revoke`: the admin API's bearer tokens
// (admin/token_store.hpp), in the store the configuration names.
#pragma once

#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace bh {

struct Config;

// Adds "token" with its subcommands to app; -c binds to config_path.
CLI::App* add_token_command(CLI::App& app, std::string& config_path);
// Exit status 0, or 1 with the reason on err.
int token_command(const CLI::App& token, const Config& config, std::ostream& out,
                  std::ostream& err);

}  // namespace bh
