// /v1/users (docs/api/openapi.yaml).
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

class UsersApi : public DirectoryAccess {
 public:
  using DirectoryAccess::DirectoryAccess;

  HttpResponse list_users(const HttpRequest& request, const Caller& caller) const {
    PageQuery page;
    if (auto refused = check_query(request, {"tenant", "limit", "after"})) return *refused;
    if (auto refused = read_page(request, page)) return *refused;
    HttpResponse refusal;
    auto tenant = list_tenant(request, caller, &refusal);
    if (!tenant) return refusal;
    auto users = store_.users(*tenant, {to_lower_ascii(page.after), page.limit});
    if (!users) return store_failure(users.error());
    json::array items;
    for (const User& u : *users) items.push_back(to_json(u));
    return page_answer("users", std::move(items), users->size(), page,
                       users->empty() ? "" : users->back().address);
  }

  // The user with this address, if the caller sees it; by_alias: an alias
  // finds it too (reads), else only the primary address does (changes).
  Result<std::optional<User>> visible_user(const Caller& caller, const std::string& text,
                                           bool by_alias = false) const {
    std::string address = to_lower_ascii(text);
    auto found = store_.user(address);
    if (!found) return found;
    if (!*found || (!by_alias && (*found)->address != address) ||
        !caller.sees_tenant((*found)->tenant))
      return std::optional<User>();
    return found;
  }

  HttpResponse get_user(const PathParams& params, const Caller& caller) const {
    auto found = visible_user(caller, params.at("address"), true);
    if (!found) return store_failure(found.error());
    if (!*found) return not_found("user");
    return json_response(200, to_json(**found));
  }

  // Checks and normalises a user to be stored, with the reader's problems;
  // the 400 when anything is bad.
  std::optional<HttpResponse> prepare_user(User& user, const Caller& caller,
                                           std::vector<FieldProblem> problems) const {
    add_errors(problems, directory::normalise_user(user, "", plane_.normalise));
    if (!problems.empty()) return invalid(problems);
    if (auto bad = check_owner(caller, user.tenant)) return bad;
    auto tenant = store_.tenant(user.tenant);
    if (!tenant) return store_failure(tenant.error());
    // Removed since check_owner looked.
    if (!*tenant) return invalid({{"tenant", "no such tenant: create the tenant first"}});
    // The push's rule (directory/validate.hpp): a tenant without domains
    // does not restrict addresses.
    const std::vector<std::string>& domains = (*tenant)->domains;
    auto in_domains = [&](const std::string& address) {
      std::string domain = address.substr(address.rfind('@') + 1);
      return domains.empty() || std::find(domains.begin(), domains.end(), domain) != domains.end();
    };
    if (!in_domains(user.address))
      problems.push_back({"address", "is not in a domain of the tenant"});
    for (std::size_t i = 0; i < user.aliases.size(); ++i)
      if (!in_domains(user.aliases[i]))
        problems.push_back({field_path("aliases", i), "is not in a domain of the tenant"});
    for (std::size_t i = 0; i < user.send_as.size(); ++i)
      if (!in_domains(user.send_as[i]))
        problems.push_back({field_path("send_as", i), "is not in a domain of the tenant"});
    if (!problems.empty()) return invalid(problems);
    std::vector<std::string> addresses = user.aliases;
    addresses.push_back(user.address);
    for (const std::string& address : addresses)
      if (std::string owner = configured_owner_of(user.tenant, address); !owner.empty())
        return error_response(
            409, "conflict",
            "address '" + address + "' is in a domain of the configured tenant " + owner);
    return std::nullopt;
  }

  HttpResponse create_user(const HttpRequest& request, const Caller& caller) const {
    User user;
    std::vector<FieldProblem> problems;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_user(r, user, true); }, problems))
      return *refused;
    if (user.tenant.empty()) user.tenant = caller.tenant;
    if (auto bad = prepare_user(user, caller, std::move(problems))) return *bad;
    auto existing = store_.user(user.address);
    if (!existing) return store_failure(existing.error());
    if (*existing) return error_response(409, "conflict", "the address is a user's already");
    if (auto put = store_.put_user(user); !put) return store_failure(put.error());
    put_in_force();
    return created(to_json(user), "/v1/users/" + path_segment(user.address));
  }

  HttpResponse update_user(const HttpRequest& request, const PathParams& params,
                           const Caller& caller) const {
    auto existing = visible_user(caller, params.at("address"));
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("user");
    User user;
    std::vector<FieldProblem> problems;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_user(r, user, false); }, problems))
      return *refused;
    if (!user.address.empty() && to_lower_ascii(user.address) != (*existing)->address)
      problems.push_back({"address", "must be the address of the path, or absent"});
    user.address = (*existing)->address;
    if (user.tenant.empty()) user.tenant = (*existing)->tenant;
    if (auto bad = prepare_user(user, caller, std::move(problems))) return *bad;
    if (auto put = store_.put_user(user); !put) return store_failure(put.error());
    put_in_force();
    return json_response(200, to_json(user));
  }

  HttpResponse delete_user(const PathParams& params, const Caller& caller) const {
    auto existing = visible_user(caller, params.at("address"));
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("user");
    if (auto removed = store_.remove_user((*existing)->address); !removed)
      return store_failure(removed.error());
    put_in_force();
    return no_content();
  }
};

}  // namespace

void add_user_routes(Router& router, const AdminPlane& plane) {
  auto api = std::make_shared<const UsersApi>(plane);
  using R = const HttpRequest&;
  using P = const PathParams&;
  using C = const Caller&;
  router.add("GET", "/v1/users", Scope::read, [api](R r, P, C c) { return api->list_users(r, c); });
  router.add("POST", "/v1/users", Scope::write,
             [api](R r, P, C c) { return api->create_user(r, c); });
  router.add("GET", "/v1/users/{address}", Scope::read,
             [api](R, P p, C c) { return api->get_user(p, c); });
  router.add("PUT", "/v1/users/{address}", Scope::write,
             [api](R r, P p, C c) { return api->update_user(r, p, c); });
  router.add("DELETE", "/v1/users/{address}", Scope::write,
             [api](R, P p, C c) { return api->delete_user(p, c); });
}

}  // namespace bh::admin
