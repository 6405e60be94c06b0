// /v1/tenants and the push, PUT /v1/tenants/{id}/directory
// (docs/api/openapi.yaml); users and numbers are in admin/users_api.cpp and
// admin/numbers_api.cpp. A token limited to a tenant sees only that
// tenant's objects: the others answer 404, as if they did not exist.
#include <algorithm>

#include <boost/json.hpp>

#include "admin/directory_access.hpp"
#include "admin/directory_json.hpp"
#include "directory/phone_number.hpp"
#include "mail/address.hpp"

namespace bh::admin {
namespace json = boost::json;
using directory::ServiceNumber;
using directory::Tenant;
using directory::User;

namespace {

class TenantsApi : public DirectoryAccess {
 public:
  using DirectoryAccess::DirectoryAccess;

  // The domains of a tenant being written (normalised), against what is
  // stored (nullopt: a new tenant). A token limited to a tenant may not
  // change them (the domains decide whose mail passes the domain checks);
  // a domain that a configured [[tenant]] of another id lists is refused
  // (the store refuses one another stored tenant has).
  std::optional<HttpResponse> check_domains(const Caller& caller, const Tenant& tenant,
                                            const std::optional<Tenant>& stored,
                                            const std::string& field) const {
    std::vector<std::string> before = stored ? stored->domains : std::vector<std::string>();
    if (!caller.tenant.empty() && tenant.domains != before)
      return error_response(403, "forbidden",
                            field + ": a token limited to a tenant may not change its domains");
    if (!plane_.configured_domain_owner) return std::nullopt;
    for (const std::string& domain : tenant.domains) {
      std::string owner = plane_.configured_domain_owner(domain);
      if (!owner.empty() && owner != tenant.id)
        return error_response(
            409, "conflict",
            field + ": domain '" + domain + "' belongs to the configured tenant " + owner);
    }
    return std::nullopt;
  }

  HttpResponse list_tenants(const HttpRequest& request, const Caller& caller) const {
    PageQuery page;
    if (auto refused = check_query(request, {"limit", "after"})) return *refused;
    if (auto refused = read_page(request, page)) return *refused;
    std::vector<Tenant> tenants;
    if (!caller.tenant.empty()) {
      auto own = store_.tenant(caller.tenant);
      if (!own) return store_failure(own.error());
      if (*own && (*own)->id > page.after) tenants.push_back(**own);
    } else {
      auto listed = store_.tenants({page.after, page.limit});
      if (!listed) return store_failure(listed.error());
      tenants = std::move(*listed);
    }
    json::array items;
    for (const Tenant& t : tenants) items.push_back(to_json(t));
    return page_answer("tenants", std::move(items), tenants.size(), page,
                       tenants.empty() ? "" : tenants.back().id);
  }

  HttpResponse get_tenant(const PathParams& params, const Caller& caller) const {
    HttpResponse refusal;
    auto id = tenant_id_from(params.at("id"), &refusal);
    if (!id) return refusal;
    auto found = visible_tenant(caller, *id);
    if (!found) return store_failure(found.error());
    if (!*found) return not_found("tenant");
    return json_response(200, to_json(**found));
  }

  HttpResponse create_tenant(const HttpRequest& request, const Caller& caller) const {
    Tenant tenant;
    std::vector<FieldProblem> problems;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_tenant(r, tenant, true); }, problems))
      return *refused;
    add_errors(problems, directory::normalise_tenant(tenant, ""));
    if (!problems.empty()) return invalid(problems);
    if (!caller.sees_tenant(tenant.id))
      return error_response(403, "forbidden", "this token is limited to another tenant");
    auto existing = store_.tenant(tenant.id);
    if (!existing) return store_failure(existing.error());
    if (*existing) return error_response(409, "conflict", "the tenant exists; PUT changes it");
    if (auto refused = check_domains(caller, tenant, std::nullopt, "domains")) return *refused;
    if (auto put = store_.put_tenant(tenant); !put) return store_failure(put.error());
    put_in_force();
    return created(to_json(tenant), "/v1/tenants/" + tenant.id);
  }

  HttpResponse update_tenant(const HttpRequest& request, const PathParams& params,
                             const Caller& caller) const {
    HttpResponse refusal;
    auto id = tenant_id_from(params.at("id"), &refusal);
    if (!id) return refusal;
    auto existing = visible_tenant(caller, *id);
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("tenant");
    Tenant tenant;
    std::vector<FieldProblem> problems;
    bool domains_given = false;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_tenant(r, tenant, false, &domains_given); },
            problems))
      return *refused;
    if (!tenant.id.empty() && to_lower_ascii(tenant.id) != *id)
      problems.push_back({"id", "must be the tenant id of the path, or absent"});
    tenant.id = *id;
    if (!domains_given) tenant.domains = (*existing)->domains;
    add_errors(problems, directory::normalise_tenant(tenant, ""));
    if (!problems.empty()) return invalid(problems);
    if (auto refused = check_domains(caller, tenant, *existing, "domains")) return *refused;
    if (auto put = store_.put_tenant(tenant); !put) return store_failure(put.error());
    put_in_force();
    return json_response(200, to_json(tenant));
  }

  HttpResponse delete_tenant(const PathParams& params, const Caller& caller) const {
    HttpResponse refusal;
    auto id = tenant_id_from(params.at("id"), &refusal);
    if (!id) return refusal;
    auto existing = visible_tenant(caller, *id);
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("tenant");
    if (auto removed = store_.remove_tenant(*id); !removed) return store_failure(removed.error());
    put_in_force();
    return no_content();
  }

  // PUT /v1/tenants/{id}/directory: everything of the tenant, or nothing.
  HttpResponse push(const HttpRequest& request, const PathParams& params,
                    const Caller& caller) const {
    HttpResponse refusal;
    auto id = tenant_id_from(params.at("id"), &refusal);
    if (!id) return refusal;
    if (!caller.sees_tenant(*id)) return not_found("tenant");
    directory::TenantDirectory pushed;
    std::vector<FieldProblem> problems;
    bool domains_given = false;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_directory(r, pushed, &domains_given); }, problems))
      return *refused;
    if (!pushed.tenant.id.empty() && to_lower_ascii(pushed.tenant.id) != *id)
      problems.push_back({"tenant.id", "must be the tenant id of the path, or absent"});
    pushed.tenant.id = *id;
    auto stored = store_.tenant(*id);
    if (!stored) return store_failure(stored.error());
    if (!domains_given && *stored) pushed.tenant.domains = (*stored)->domains;
    add_errors(problems, directory::normalise_directory(pushed, plane_.normalise));
    if (!problems.empty()) return invalid(problems);
    if (auto refused = check_domains(caller, pushed.tenant, *stored, "tenant.domains"))
      return *refused;
    for (std::size_t i = 0; i < pushed.users.size(); ++i) {
      std::vector<std::string> addresses = pushed.users[i].aliases;
      addresses.push_back(pushed.users[i].address);
      for (const std::string& address : addresses)
        if (std::string owner = configured_owner_of(*id, address); !owner.empty())
          return error_response(409, "conflict",
                                "users[" + std::to_string(i) + "]: address '" + address +
                                    "' is in a domain of the configured tenant " + owner);
    }
    auto replaced = store_.replace_tenant_directory(pushed);
    if (!replaced) return store_failure(replaced.error());
    put_in_force();
    // The version this push wrote: read after the refresh, it could be
    // another push's that committed in between.
    json::object answer{{"tenant", *id},
                        {"users", pushed.users.size()},
                        {"numbers", pushed.numbers.size()},
                        {"version", *replaced}};
    return json_response(200, answer);
  }
};

}  // namespace

void add_directory_routes(Router& router, const AdminPlane& plane) {
  auto api = std::make_shared<const TenantsApi>(plane);
  using R = const HttpRequest&;
  using P = const PathParams&;
  using C = const Caller&;
  router.add("GET", "/v1/tenants", Scope::read,
             [api](R r, P, C c) { return api->list_tenants(r, c); });
  router.add("POST", "/v1/tenants", Scope::write,
             [api](R r, P, C c) { return api->create_tenant(r, c); });
  router.add("GET", "/v1/tenants/{id}", Scope::read,
             [api](R, P p, C c) { return api->get_tenant(p, c); });
  router.add("PUT", "/v1/tenants/{id}", Scope::write,
             [api](R r, P p, C c) { return api->update_tenant(r, p, c); });
  router.add("DELETE", "/v1/tenants/{id}", Scope::write,
             [api](R, P p, C c) { return api->delete_tenant(p, c); });
  router.add("PUT", "/v1/tenants/{id}/directory", Scope::write,
             [api](R r, P p, C c) { return api->push(r, p, c); });

  add_user_routes(router, plane);
  add_number_routes(router, plane);
}

}  // namespace bh::admin
