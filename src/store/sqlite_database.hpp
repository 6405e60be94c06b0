// The embedded backend: one SQLite file (WAL, synchronous=FULL), one
// connection behind a mutex. SQLite lets one writer in at a time anyway,
// and every transaction is BEGIN IMMEDIATE, so two processes on the same
// file (a CLI command next to the gateway) wait for each other up to the
// busy timeout instead of failing half-way.
#pragma once

#include <memory>

#include "store/database.hpp"

namespace bh::store {

// The folder of settings.path is created if missing. Cannot open:
// StoreErrc::unavailable.
Result<std::shared_ptr<Database>> open_sqlite_database(const StoreSettings& settings);

}  // namespace bh::store
