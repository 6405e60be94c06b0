// The admin API as the gateway runs it: the token store, the first-start
// token file, the router over the plane and the HTTP listener, with one
// start and one stop (server/gateway.cpp: started once SMTP listens,
// stopped first).
#pragma once

#include <memory>

#include "admin/admin_plane.hpp"
#include "admin/admin_settings.hpp"
#include "admin/http_server.hpp"
#include "admin/token_store.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace bh::admin {

class AdminService {
 public:
  // Opens the tokens' tables, writes settings.token_file when it is set
  // and missing, and binds the listener; plane.tokens is filled in.
  static Result<std::unique_ptr<AdminService>> open(const AdminSettings& settings,
                                                    std::shared_ptr<store::Database> database,
                                                    AdminPlane plane);
  void start() { server_->start(); }
  void stop() { server_->stop(); }

 private:
  AdminService() = default;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace bh::admin
