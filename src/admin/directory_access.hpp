// What the directory's endpoints share (admin/directory_api.cpp: tenants and
// the push, admin/users_api.cpp, admin/numbers_api.cpp): strict bodies whose
// reader problems and validation errors go into one 400, the caller's view
// of tenants, and putting a change in force before the answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "admin/admin_plane.hpp"
#include "admin/api_support.hpp"
#include "admin/json_fields.hpp"
#include "directory/directory_store.hpp"

namespace bh::admin {

// The body read into an object: the answer when it is no JSON object (415,
// 400), else nullopt with what the reader found wrong in *problems (the
// caller adds what validation finds, so one 400 names every field).
template <typename Read>
std::optional<HttpResponse> read_body(const HttpRequest& request, Read read,
                                      std::vector<FieldProblem>& problems) {
  boost::json::value body;
  if (auto refused = read_json_body(request, body)) return refused;
  FieldReader r(body, "", problems);
  if (!r.is_object()) return invalid(problems);
  read(r);
  return std::nullopt;
}

// Validation errors added to the reader's problems, except for fields the
// reader named already (a missing or mistyped field is not reported twice).
void add_errors(std::vector<FieldProblem>& problems,
                const std::vector<directory::FieldError>& errors);

// A path's tenant id, lower case; nullopt with the 400 in *refusal.
std::optional<std::string> tenant_id_from(const std::string& text, HttpResponse* refusal);

class DirectoryAccess {
 public:
  explicit DirectoryAccess(AdminPlane plane)
      : plane_(std::move(plane)), store_(*plane_.directory) {}

  // A change is in force on this node before the answer goes out.
  void put_in_force() const;
  // The tenant if it exists and the caller may see it.
  Result<std::optional<directory::Tenant>> visible_tenant(const Caller& caller,
                                                          const std::string& id) const;
  // For a user or number being written: its tenant must exist and be the
  // caller's; "" becomes a limited caller's own tenant.
  std::optional<HttpResponse> check_owner(const Caller& caller, std::string& tenant) const;
  // The configured [[tenant]] of another id than `tenant` whose domains
  // hold the address (its users are that tenant's to give out), or "".
  std::string configured_owner_of(const std::string& tenant, const std::string& address) const;
  // The tenant= filter of a list: "" for all the caller sees; nullopt with
  // the answer in *refusal.
  std::optional<std::string> list_tenant(const HttpRequest& request, const Caller& caller,
                                         HttpResponse* refusal) const;
  // {"<name>": [...], "next": key or null}: next is the `after` of the
  // following page, given when this page is full.
  static HttpResponse page_answer(std::string_view name, boost::json::array items,
                                  std::size_t count, const PageQuery& page,
                                  const std::string& last);

 protected:
  AdminPlane plane_;
  directory::DirectoryStore& store_;
};

void add_user_routes(Router& router, const AdminPlane& plane);
void add_number_routes(Router& router, const AdminPlane& plane);

}  // namespace bh::admin
