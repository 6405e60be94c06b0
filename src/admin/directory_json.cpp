#include "admin/directory_json.hpp"

#include <boost/json.hpp>

namespace bh::admin {
namespace json = boost::json;

namespace {

json::array strings(const std::vector<std::string>& list) {
  json::array out;
  for (const std::string& item : list) out.emplace_back(item);
  return out;
}

}  // namespace

json::object to_json(const directory::Tenant& tenant) {
  return {{"id", tenant.id}, {"name", tenant.name}, {"domains", strings(tenant.domains)}};
}

json::object to_json(const directory::User& user) {
  return {{"address", user.address},
          {"tenant", user.tenant},
          {"display_name", user.display_name},
          {"aliases", strings(user.aliases)},
          {"fax_numbers", strings(user.fax_numbers)},
          {"mobile_numbers", strings(user.mobile_numbers)},
          {"permissions", strings(user.permissions)},
          {"send_as", strings(user.send_as)}};
}

json::object to_json(const directory::ServiceNumber& number) {
  return {{"number", number.number},
          {"tenant", number.tenant},
          {"mailbox", number.mailbox},
          {"service", number.service},
          {"description", number.description}};
}

void read_tenant(FieldReader& r, directory::Tenant& tenant, bool id_required, bool* domains_given) {
  if (domains_given) *domains_given = r.has("domains");
  r.text("id", tenant.id, id_required);
  r.text("name", tenant.name);
  r.strings("domains", tenant.domains);
}

void read_user(FieldReader& r, directory::User& user, bool address_required) {
  r.text("address", user.address, address_required);
  r.text("tenant", user.tenant);
  r.text("display_name", user.display_name);
  r.strings("aliases", user.aliases);
  r.strings("fax_numbers", user.fax_numbers);
  r.strings("mobile_numbers", user.mobile_numbers);
  r.strings("permissions", user.permissions);
  r.strings("send_as", user.send_as);
}

void read_number(FieldReader& r, directory::ServiceNumber& number, bool number_required) {
  r.text("number", number.number, number_required);
  r.text("tenant", number.tenant);
  r.text("mailbox", number.mailbox, true);
  r.text("service", number.service);
  r.text("description", number.description);
}

void read_directory(FieldReader& r, directory::TenantDirectory& directory, bool* domains_given) {
  if (domains_given) *domains_given = false;
  r.object(
      "tenant",
      [&](FieldReader& tenant) { read_tenant(tenant, directory.tenant, false, domains_given); },
      true);
  r.objects("users", [&](FieldReader& element) {
    directory.users.emplace_back();
    read_user(element, directory.users.back(), true);
  });
  r.objects("numbers", [&](FieldReader& element) {
    directory.numbers.emplace_back();
    read_number(element, directory.numbers.back(), true);
  });
}

}  // namespace bh::admin
