// The backend several nodes share: PostgreSQL through libpq. A pool of up
// to pool_size connections, opened when first needed; a connection the
// server or the network broke is dropped and the call fails with
// StoreErrc::unavailable (the next call opens a new one). Every wait is
// bounded: connect_timeout, statement_timeout on each connection, TCP
// keepalives, and a bounded wait for a free connection.
// Statements are prepared once per connection (postgres_connection.cpp).
#pragma once

#include <memory>

#include "store/database.hpp"

namespace bh::store {

// Checks settings.url; connects only when the first call needs it.
Result<std::shared_ptr<Database>> open_postgres_database(const StoreSettings& settings);

}  // namespace bh::store
