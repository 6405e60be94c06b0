// The embedded backend: one SQLite file (WAL, synchronous=FULL), one write
// connection and up to kSqliteReadConnections read connections
// (sqlite_session.hpp). SQLite lets one writer in at a time anyway, and
// every write transaction is BEGIN IMMEDIATE, so two processes on the same
// file (a CLI command next to the gateway) wait for each other up to the
// busy timeout instead of failing half-way. WAL lets readers read while
// the writer writes: a query() that only reads, or a read_transaction(),
// does not wait for a long write transaction (a directory push). Every wait
// of a call (for the writer, for a free reader, for another process's
// lock) is bounded by statement_timeout and fails as "store unavailable".
// A file that is not in WAL (a file system without shared memory for it)
// gets no readers: every call takes the writer, as readers' locks would
// otherwise hold up its COMMIT.
#pragma once

#include <memory>

#include "store/database.hpp"

namespace bh::store {

// Read connections per process, opened when first needed. A read holds one
// for the few milliseconds of its statements; more callers than this wait
// (bounded) for one to come back. Above the admin API's default workers (4),
// so the scheduler, the pending reports and the directory's refresh find one
// while every worker reads (server/config_store.cpp warns about more workers).
constexpr int kSqliteReadConnections = 8;

// The folder of settings.path is created if missing. Cannot open:
// StoreErrc::unavailable.
Result<std::shared_ptr<Database>> open_sqlite_database(const StoreSettings& settings);

}  // namespace bh::store
