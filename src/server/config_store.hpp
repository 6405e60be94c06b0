// What the configuration of [store] allows but an administrator should
// hear about (config_store.cpp): said by check-config and logged at start.
#pragma once

#include <string>

#include "server/config.hpp"

namespace bh {

// With backend = "postgresql" and the admin API on: pool_size not above
// [admin] workers, so a busy admin API can hold every connection while the
// trace writer, the directory's poll and the pending references wait for
// one. "" when there is nothing to say.
std::string store_pool_warning(const Config& config);

}  // namespace bh
