// Opening an SQLite database the way every store of the gateway does: the
// folder made if missing, serialized (FULLMUTEX) access, a busy timeout,
// and the schema (pragmas and CREATE ... IF NOT EXISTS) applied.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

struct sqlite3;

namespace bh {

// what names the store in errors ("directory", "pending store").
Result<sqlite3*> open_sqlite(const std::string& path, const char* schema, std::string_view what);

}  // namespace bh
