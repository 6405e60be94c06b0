// `bridgehead directory ...` (docs/directory.md): list, show, tenants,
// import, export and `sync ldap`, on the store the gateway uses ([store] of
// the configuration). A running gateway sees a change within its cache's
// refresh interval ([directory] refresh_ms).
#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace bh {

// Adds "directory" to app. The arguments after it are parsed by
// directory_command itself, so that a bad one exits with 2 as well.
CLI::App* add_directory_command(CLI::App& app);

// Exit status: 0 done; 1 the command failed (a file with errors, a refused
// sync, a store error, nothing found); 2 a bad argument or configuration.
int directory_command(CLI::App& directory, std::ostream& out, std::ostream& err);

}  // namespace bh
