// /v1/numbers: service numbers (docs/api/openapi.yaml).
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

class NumbersApi : public DirectoryAccess {
 public:
  using DirectoryAccess::DirectoryAccess;

  HttpResponse list_numbers(const HttpRequest& request, const Caller& caller) const {
    PageQuery page;
    if (auto refused = check_query(request, {"tenant", "limit", "after"})) return *refused;
    if (auto refused = read_page(request, page)) return *refused;
    HttpResponse refusal;
    auto tenant = list_tenant(request, caller, &refusal);
    if (!tenant) return refusal;
    auto numbers = store_.numbers(*tenant, {page.after, page.limit});
    if (!numbers) return store_failure(numbers.error());
    json::array items;
    for (const ServiceNumber& n : *numbers) items.push_back(to_json(n));
    return page_answer("numbers", std::move(items), numbers->size(), page,
                       numbers->empty() ? "" : numbers->back().number);
  }

  // The path's number in E.164; nullopt with the 400 in *refusal.
  std::optional<std::string> number_from(const std::string& text, HttpResponse* refusal) const {
    auto e164 = directory::to_e164(text, plane_.normalise.default_region);
    if (!e164) {
      *refusal = invalid({{"number", e164.error().message}});
      return std::nullopt;
    }
    return *e164;
  }

  Result<std::optional<ServiceNumber>> visible_number(const Caller& caller,
                                                      const std::string& e164) const {
    auto found = store_.number(e164);
    if (found && *found && !caller.sees_tenant((*found)->tenant))
      return std::optional<ServiceNumber>();
    return found;
  }

  HttpResponse get_number(const PathParams& params, const Caller& caller) const {
    HttpResponse refusal;
    auto e164 = number_from(params.at("number"), &refusal);
    if (!e164) return refusal;
    auto found = visible_number(caller, *e164);
    if (!found) return store_failure(found.error());
    if (!*found) return not_found("number");
    return json_response(200, to_json(**found));
  }

  std::optional<HttpResponse> prepare_number(ServiceNumber& number, const Caller& caller,
                                             std::vector<FieldProblem> problems) const {
    add_errors(problems, directory::normalise_number(number, "", plane_.normalise));
    if (!problems.empty()) return invalid(problems);
    if (auto bad = check_owner(caller, number.tenant)) return bad;
    auto owner = store_.user(number.mailbox);
    if (!owner) return store_failure(owner.error());
    if (!*owner || (*owner)->tenant != number.tenant)
      return invalid(
          {{"mailbox", "is neither a user's address nor an alias of one in the tenant"}});
    return std::nullopt;
  }

  HttpResponse create_number(const HttpRequest& request, const Caller& caller) const {
    ServiceNumber number;
    std::vector<FieldProblem> problems;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_number(r, number, true); }, problems))
      return *refused;
    if (number.tenant.empty()) number.tenant = caller.tenant;
    if (auto bad = prepare_number(number, caller, std::move(problems))) return *bad;
    auto existing = store_.number(number.number);
    if (!existing) return store_failure(existing.error());
    if (*existing) return error_response(409, "conflict", "the number exists; PUT changes it");
    if (auto put = store_.put_number(number); !put) return store_failure(put.error());
    put_in_force();
    return created(to_json(number), "/v1/numbers/" + path_segment(number.number));
  }

  HttpResponse update_number(const HttpRequest& request, const PathParams& params,
                             const Caller& caller) const {
    HttpResponse refusal;
    auto e164 = number_from(params.at("number"), &refusal);
    if (!e164) return refusal;
    auto existing = visible_number(caller, *e164);
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("number");
    ServiceNumber number;
    std::vector<FieldProblem> problems;
    if (auto refused = read_body(
            request, [&](FieldReader& r) { read_number(r, number, false); }, problems))
      return *refused;
    if (!number.number.empty()) {
      auto given = directory::to_e164(number.number, plane_.normalise.default_region);
      if (!given || *given != *e164)
        problems.push_back({"number", "must be the number of the path, or absent"});
    }
    number.number = *e164;
    if (number.tenant.empty()) number.tenant = (*existing)->tenant;
    if (auto bad = prepare_number(number, caller, std::move(problems))) return *bad;
    if (auto put = store_.put_number(number); !put) return store_failure(put.error());
    put_in_force();
    return json_response(200, to_json(number));
  }

  HttpResponse delete_number(const PathParams& params, const Caller& caller) const {
    HttpResponse refusal;
    auto e164 = number_from(params.at("number"), &refusal);
    if (!e164) return refusal;
    auto existing = visible_number(caller, *e164);
    if (!existing) return store_failure(existing.error());
    if (!*existing) return not_found("number");
    if (auto removed = store_.remove_number(*e164); !removed) return store_failure(removed.error());
    put_in_force();
    return no_content();
  }
};

}  // namespace

void add_number_routes(Router& router, const AdminPlane& plane) {
  auto api = std::make_shared<const NumbersApi>(plane);
  using R = const HttpRequest&;
  using P = const PathParams&;
  using C = const Caller&;
  router.add("GET", "/v1/numbers", Scope::read,
             [api](R r, P, C c) { return api->list_numbers(r, c); });
  router.add("POST", "/v1/numbers", Scope::write,
             [api](R r, P, C c) { return api->create_number(r, c); });
  router.add("GET", "/v1/numbers/{number}", Scope::read,
             [api](R, P p, C c) { return api->get_number(p, c); });
  router.add("PUT", "/v1/numbers/{number}", Scope::write,
             [api](R r, P p, C c) { return api->update_number(r, p, c); });
  router.add("DELETE", "/v1/numbers/{number}", Scope::write,
             [api](R, P p, C c) { return api->delete_number(p, c); });
}

}  // namespace bh::admin
