// [directory]: how numbers are read and how fresh the cached directory
// must be (docs/configuration.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "directory/ldap_settings.hpp"

namespace bh::directory {

struct DirectorySettings {
  // ISO 3166 region for numbers written without a country code; "" : only
  // international numbers are accepted.
  std::string default_region;
  // How often a node checks the shared store for changes other nodes made.
  std::int64_t refresh_ms = 1000;
  // A cache that could not be refreshed for this long answers 451 4.3.0
  // to decisions that need it instead of using data that may be revoked.
  std::int64_t max_stale_seconds = 30;
  // [[directory.ldap]]: the sources `bridgehead directory sync ldap` reads.
  std::vector<LdapSource> ldap;
};

}  // namespace bh::directory
