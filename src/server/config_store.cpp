// [store] (docs/configuration.md): the store the nodes share.
#include "server/config_store.hpp"
#include "store/sqlite_database.hpp"

#include <libpq-fe.h>

#include "server/config_reader.hpp"

namespace bh::config_detail {
namespace {

// libpq's own parser, so that a URL the gateway would refuse at its first
// query is refused with its line instead.
std::string connection_string_problem(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  std::string problem;
  if (!options) {
    problem = error ? error : "out of memory";
    while (!problem.empty() && (problem.back() == '\n' || problem.back() == ' '))
      problem.pop_back();
  }
  PQfreemem(error);
  PQconninfoFree(options);
  return problem;
}

}  // namespace

void read_store(TableReader& r, store::StoreSettings& store, const toml::node* old_database) {
  r.text("backend", store.backend);
  if (store.backend != "sqlite" && store.backend != "postgresql") {
    r.error(*r.node("backend"), "backend", "must be \"sqlite\" or \"postgresql\"");
    return;
  }
  const bool postgresql = store.backend == "postgresql";
  // Keys of the other backend: most likely a forgotten `backend` line,
  // which would otherwise put the data somewhere unexpected.
  auto only_for = [&r](const char* key, const char* backend) {
    if (const toml::node* n = r.node(key))
      r.error(*n, key, fmt::format("is only for backend = \"{}\"", backend));
  };
  if (postgresql) {
    only_for("path", "sqlite");
    r.text("url", store.url, true);
    if (const toml::node* n = r.table().get("url"); n && n->is_string()) {
      if (store.url.empty())
        r.error(*n, "url", "must not be empty: a libpq connection string");
      else if (std::string problem = connection_string_problem(store.url); !problem.empty())
        r.error(*n, "url", "is not a libpq connection string: " + problem);
    }
    r.number("pool_size", store.pool_size, 1, 64);
    r.number("connect_timeout", store.connect_timeout_seconds, 1, 300);
  } else {
    if (r.table().contains("path") && old_database)
      r.error(*r.node("path"), "path",
              fmt::format("is also given as [directory] database (line {}): keep only "
                          "[store] path",
                          old_database->source().begin.line));
    else
      r.path("path", store.path);
    only_for("url", "postgresql");
    only_for("pool_size", "postgresql");
    only_for("connect_timeout", "postgresql");
  }
  r.number("statement_timeout", store.statement_timeout_seconds, 1, 3600);
}

}  // namespace bh::config_detail

namespace bh {

std::string store_pool_warning(const Config& config) {
  if (!config.admin.enabled) return {};
  if (config.store.backend == "sqlite") {
    if (config.admin.workers < store::kSqliteReadConnections) return {};
    return fmt::format(
        "{}: [admin] workers ({}) is not below the SQLite store's {} read connections: while "
        "every admin worker reads, the scheduler, the pending references and the directory's "
        "refresh wait for one (keep workers below {}; docs/operations.md, \"Shared store\")",
        config.source, config.admin.workers, store::kSqliteReadConnections,
        store::kSqliteReadConnections);
  }
  if (config.store.backend != "postgresql") return {};
  if (config.store.pool_size > config.admin.workers) return {};
  return fmt::format(
      "{}: store.pool_size ({}) is not above [admin] workers ({}): each running admin request "
      "holds one of the pool's connections, so while the admin API is busy the trace writer, the "
      "directory's poll and the pending references wait for one (keep pool_size above workers, "
      "e.g. workers + 4; docs/operations.md, \"Pool\")",
      config.source, config.store.pool_size, config.admin.workers);
}

}  // namespace bh
