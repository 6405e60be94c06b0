// `bridgehead directory sync ldap`: once, or periodically until SIGINT or
// SIGTERM (server/directory_cli.cpp parses the arguments).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "directory/directory_store.hpp"
#include "server/config.hpp"

namespace bh {

struct SyncLdapArgs {
  std::string tenant;  // "": every [[directory.ldap]] source
  bool once = false;
  std::optional<std::int64_t> every;  // seconds; default: each source's interval
};

// Exit status as directory_command's: once, 1 when a source failed or was
// refused; periodically, 0 when stopped by a signal.
int sync_ldap_command(const Config& config, directory::DirectoryStore& store,
                      const SyncLdapArgs& args, std::ostream& out, std::ostream& err);

}  // namespace bh
