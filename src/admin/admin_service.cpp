#include "admin/admin_service.hpp"

#include "admin/token_file.hpp"
#include "util/log.hpp"

namespace bh::admin {

Result<std::unique_ptr<AdminService>> AdminService::open(const AdminSettings& settings,
                                                         std::shared_ptr<store::Database> database,
                                                         AdminPlane plane) {
  std::unique_ptr<AdminService> service(new AdminService());
  auto tokens = TokenStore::open(std::move(database));
  if (!tokens) return Error{"admin: tokens: " + tokens.error().message};
  service->tokens_ = std::move(*tokens);
  if (!settings.token_file.empty()) {
    bool created = false;
    if (auto made = ensure_token_file(*service->tokens_, settings.token_file, &created); !made)
      return Error{"admin: token_file: " + made.error().message};
    // The file's name only: the token is in the file, never in a log.
    if (created) log::Line("admin_token_created").kv("file", settings.token_file).write();
  }
  plane.tokens = service->tokens_.get();
  TokenStore* store = service->tokens_.get();
  auto server = HttpServer::open(settings, build_router(plane), [store](std::string_view token) {
    return store->authenticate(token);
  });
  if (!server) return server.error();
  service->server_ = std::move(*server);
  return service;
}

}  // namespace bh::admin
