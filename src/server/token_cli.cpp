#include "server/token_cli.hpp"

#include <CLI/CLI.hpp>
#include <ctime>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "admin/token_store.hpp"
#include "mail/address.hpp"
#include "policy/trust_policy.hpp"
#include "server/config.hpp"
#include "store/store_error.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

constexpr std::size_t kMaxDescription = 256;

struct TokenOptions {
  std::string scope;
  std::string tenant;
  std::string description;
  std::string id;
};

TokenOptions& options() {
  static TokenOptions values;
  return values;
}

std::string when(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

CLI::App* add_token_command(CLI::App& app, std::string& config_path) {
  TokenOptions& o = options();
  auto* token = app.add_subcommand("token", "Bearer tokens of the admin API");
  token->add_option("-c,--config", config_path, "TOML configuration file");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Make a token and print it (shown only once)");
  create->add_option("--scope", o.scope, "read, write or admin")
      ->required()
      ->check(CLI::IsMember({"read", "write", "admin"}));
  create->add_option("--tenant", o.tenant, "limit the token to this tenant (GUID)");
  create->add_option("--description", o.description, "what the token is for");
  auto* list = token->add_subcommand("list", "List the tokens (never their secrets)");
  auto* revoke = token->add_subcommand("revoke", "Revoke a token");
  revoke->add_option("id", o.id, "the token's id (as `token list` shows it)")->required();
  for (CLI::App* sub : {create, list, revoke}) sub->fallthrough();
  return token;
}

int token_command(const CLI::App& token, const Config& config, std::ostream& out,
                  std::ostream& err) {
  const TokenOptions& o = options();
  auto db = store::open_database(config.store);
  if (!db) {
    fmt::print(err, "token: {}\n", db.error().message);
    return 1;
  }
  auto tokens = admin::TokenStore::open(*db);
  if (!tokens) {
    fmt::print(err, "token: {}\n", tokens.error().message);
    return 1;
  }
  if (token.got_subcommand("create")) {
    std::string tenant = to_lower_ascii(o.tenant);
    if (!tenant.empty() && !is_tenant_guid(tenant)) {
      fmt::print(err, "token: --tenant \"{}\" is not a tenant id (GUID)\n", printable(o.tenant));
      return 1;
    }
    if (o.description.size() > kMaxDescription || printable(o.description) != o.description) {
      fmt::print(err,
                 "token: --description must be UTF-8 without control characters, at most {} "
                 "bytes\n",
                 kMaxDescription);
      return 1;
    }
    auto made = (*tokens)->create(*admin::scope_from_name(o.scope), tenant, o.description);
    if (!made) {
      fmt::print(err, "token: {}\n", made.error().message);
      return 1;
    }
    // The token itself on stdout alone, so that scripts can capture it.
    fmt::print(out, "{}\n", made->text);
    fmt::print(err, "token {} (scope {}, {}): keep it now, it is not shown again\n", made->info.id,
               o.scope, tenant.empty() ? "every tenant" : "tenant " + tenant);
    return 0;
  }
  if (token.got_subcommand("list")) {
    auto listed = (*tokens)->list();
    if (!listed) {
      fmt::print(err, "token: {}\n", listed.error().message);
      return 1;
    }
    for (const admin::TokenInfo& t : *listed)
      fmt::print(out, "{} scope={} tenant={} created={} last_used={} description=\"{}\"\n", t.id,
                 admin::scope_name(t.scope), t.tenant.empty() ? "*" : t.tenant, when(t.created),
                 when(t.last_used), printable(t.description));
    fmt::print(out, "-- {} token(s)\n", listed->size());
    return 0;
  }
  if (token.got_subcommand("revoke")) {
    auto revoked = (*tokens)->revoke(o.id);
    if (!revoked) {
      fmt::print(err, "token: {}\n",
                 store::is(revoked.error(), store::StoreErrc::not_found)
                     ? "no token " + printable(o.id)
                     : revoked.error().message);
      return 1;
    }
    fmt::print(out, "token {} revoked\n", printable(o.id));
    return 0;
  }
  return 1;
}

}  // namespace bh
