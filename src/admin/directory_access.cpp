#include "admin/directory_access.hpp"

#include "util/log.hpp"

namespace bh::admin {
namespace json = boost::json;
using directory::Tenant;

void add_errors(std::vector<FieldProblem>& problems,
                const std::vector<directory::FieldError>& errors) {
  std::size_t read_problems = problems.size();
  for (const auto& e : errors) {
    bool named = false;
    for (std::size_t i = 0; i < read_problems && !named; ++i) named = problems[i].field == e.field;
    if (!named) problems.push_back({e.field, e.message});
  }
}

std::optional<std::string> tenant_id_from(const std::string& text, HttpResponse* refusal) {
  Tenant probe{text, "", {}};
  auto errors = directory::normalise_tenant(probe, "");
  if (!errors.empty()) {
    *refusal = invalid({{"id", errors.front().message}});
    return std::nullopt;
  }
  return probe.id;
}

// A change is in force on this node before the answer goes out.
void DirectoryAccess::put_in_force() const {
  if (!plane_.refresh_directory) return;
  if (auto refreshed = plane_.refresh_directory(); !refreshed)
    log::Line("admin_directory_refresh_failed")
        .kv("reason", refreshed.error().message)
        .kv("note", "stored; the cache picks it up at its next refresh")
        .write(log::Level::warn);
}

// The tenant if it exists and the caller may see it.
Result<std::optional<Tenant>> DirectoryAccess::visible_tenant(const Caller& caller,
                                                              const std::string& id) const {
  if (!caller.sees_tenant(id)) return std::optional<Tenant>();
  return store_.tenant(id);
}

// For a user or number being written: its tenant must exist and be the
// caller's; "" becomes a limited caller's own tenant.
std::optional<HttpResponse> DirectoryAccess::check_owner(const Caller& caller,
                                                         std::string& tenant) const {
  if (tenant.empty()) tenant = caller.tenant;
  if (tenant.empty()) return invalid({{"tenant", "is required"}});
  auto found = visible_tenant(caller, tenant);
  if (!found) return store_failure(found.error());
  if (!*found) return invalid({{"tenant", "no such tenant"}});
  return std::nullopt;
}

std::string DirectoryAccess::configured_owner_of(const std::string& tenant,
                                                 const std::string& address) const {
  if (!plane_.configured_domain_owner) return "";
  std::string owner = plane_.configured_domain_owner(address.substr(address.rfind('@') + 1));
  return owner == tenant ? "" : owner;
}

// The tenant= filter of a list: "" for all the caller sees; nullopt with
// the answer in *refusal.
std::optional<std::string> DirectoryAccess::list_tenant(const HttpRequest& request,
                                                        const Caller& caller,
                                                        HttpResponse* refusal) const {
  std::string wanted = query_value(request, "tenant");
  if (wanted.empty()) return caller.tenant;
  auto id = tenant_id_from(wanted, refusal);
  if (!id) {
    *refusal = invalid({{"tenant", "is not a tenant id (GUID)"}});
    return std::nullopt;
  }
  auto found = visible_tenant(caller, *id);
  if (!found) *refusal = store_failure(found.error());
  if (found && !*found) *refusal = not_found("tenant");
  if (!found || !*found) return std::nullopt;
  return *id;
}

// {"<name>": [...], "next": key or null}: next is the `after` of the
// following page, given when this page is full.
HttpResponse DirectoryAccess::page_answer(std::string_view name, json::array items,
                                          std::size_t count, const PageQuery& page,
                                          const std::string& last) {
  json::object answer;
  answer[name] = std::move(items);
  if (count >= static_cast<std::size_t>(page.limit) && !last.empty())
    answer["next"] = last;
  else
    answer["next"] = nullptr;
  return json_response(200, answer);
}

}  // namespace bh::admin
