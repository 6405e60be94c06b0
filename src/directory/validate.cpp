#include "directory/validate.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "directory/directory.hpp"
#include "directory/phone_number.hpp"
#include "mail/address.hpp"
#include "util/host_syntax.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

// Collects field errors up to DirectoryLimits::errors, then one line that
// says more were found.
class Errors {
 public:
  explicit Errors(std::vector<FieldError>& out) : out_(out) {}

  void add(std::string field, std::string message) {
    if (out_.size() < DirectoryLimits::errors) {
      out_.push_back({std::move(field), std::move(message)});
    } else if (out_.size() == DirectoryLimits::errors) {
      out_.push_back({"", "more errors were found; the first ones are shown"});
    }
  }
  bool any() const { return !out_.empty(); }
  std::size_t count() const { return out_.size(); }

 private:
  std::vector<FieldError>& out_;
};

std::string field_name(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return fmt::format("{}.{}", prefix, name);
}

std::string indexed(const std::string& field, std::size_t index) {
  return fmt::format("{}[{}]", field, index);
}

std::string quoted(std::string_view text) {
  return "'" + printable(text.substr(0, 100)) + (text.size() > 100 ? "...'" : "'");
}

// Display names and descriptions: UTF-8 without control characters,
// bounded.
void check_text(Errors& errors, const std::string& field, const std::string& text) {
  if (text.size() > DirectoryLimits::text)
    return errors.add(field, fmt::format("is longer than {} bytes", DirectoryLimits::text));
  if (!valid_utf8(text)) return errors.add(field, "is not valid UTF-8");
  if (printable(text) != text) return errors.add(field, "must not contain control characters");
}

// A mail address, lower-cased in place; the problem or "".
std::string address_problem(std::string& address) {
  if (address.empty()) return "must not be empty";
  if (address.size() > 320) return "is longer than 320 characters";
  auto parsed = parse_path("<" + address + ">", false, true);
  if (!parsed.address || parsed.address->domain.empty() || !parsed.rest.empty() ||
      parsed.address->text() != address)
    return quoted(address) + " is not a mail address";
  std::string domain_problem = hostname_problem(parsed.address->domain);
  if (!domain_problem.empty() || parsed.address->domain.front() == '[')
    return quoted(address) + " is not a mail address (its domain " +
           (domain_problem.empty() ? std::string("is an address literal") : domain_problem) + ")";
  address = to_lower_ascii(address);
  return "";
}

void sort_unique(std::vector<std::string>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

bool too_long(Errors& errors, const std::string& field, std::size_t size, std::size_t limit) {
  if (size <= limit) return false;
  errors.add(field, fmt::format("has {} entries; at most {} are allowed", size, limit));
  return true;
}

void normalise_addresses(Errors& errors, const std::string& field, std::vector<std::string>& list,
                         std::size_t limit) {
  if (too_long(errors, field, list.size(), limit)) return;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (std::string problem = address_problem(list[i]); !problem.empty())
      errors.add(indexed(field, i), problem);
  sort_unique(list);
}

void normalise_numbers(Errors& errors, const std::string& field, std::vector<std::string>& list,
                       const NormaliseOptions& options) {
  if (too_long(errors, field, list.size(), DirectoryLimits::numbers)) return;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto e164 = to_e164(list[i], options.default_region);
    if (e164)
      list[i] = *e164;
    else
      errors.add(indexed(field, i), e164.error().message);
  }
  sort_unique(list);
}

void normalise_tenant_id(Errors& errors, const std::string& field, std::string& id) {
  if (id.empty()) return errors.add(field, "must not be empty");
  if (!valid_tenant_id(id))
    return errors.add(field, quoted(id) + " is not a tenant id (a GUID: 8-4-4-4-12 hex digits)");
  id = to_lower_ascii(id);
}

void normalise_service(Errors& errors, const std::string& field, std::string& service) {
  std::string lower = to_lower_ascii(service);
  if (!valid_service_name(lower))
    return errors.add(field, quoted(service) +
                                 " is not a service name (lower-case letters, digits, '-' and "
                                 "'_', 1 to 32 characters)");
  service = lower;
}

bool in_domains(const std::vector<std::string>& domains, std::string_view address) {
  std::string_view domain = address.substr(address.rfind('@') + 1);
  return std::find(domains.begin(), domains.end(), domain) != domains.end();
}

}  // namespace

std::vector<FieldError> normalise_tenant(Tenant& tenant, std::string_view prefix) {
  std::vector<FieldError> out;
  Errors errors(out);
  normalise_tenant_id(errors, field_name(prefix, "id"), tenant.id);
  check_text(errors, field_name(prefix, "name"), tenant.name);
  std::string field = field_name(prefix, "domains");
  if (!too_long(errors, field, tenant.domains.size(), DirectoryLimits::domains)) {
    for (std::size_t i = 0; i < tenant.domains.size(); ++i) {
      std::string& domain = tenant.domains[i];
      std::string problem = hostname_problem(domain);
      if (problem.empty() && domain.front() == '[') problem = "is an address literal";
      if (!problem.empty())
        errors.add(indexed(field, i), quoted(domain) + " is not a domain: it " + problem);
      else
        domain = to_lower_ascii(domain);
    }
    sort_unique(tenant.domains);
  }
  return out;
}

std::vector<FieldError> normalise_user(User& user, std::string_view prefix,
                                       const NormaliseOptions& options) {
  std::vector<FieldError> out;
  Errors errors(out);
  if (std::string problem = address_problem(user.address); !problem.empty())
    errors.add(field_name(prefix, "address"), problem);
  normalise_tenant_id(errors, field_name(prefix, "tenant"), user.tenant);
  check_text(errors, field_name(prefix, "display_name"), user.display_name);
  normalise_addresses(errors, field_name(prefix, "aliases"), user.aliases,
                      DirectoryLimits::aliases);
  // The primary address is no alias of itself.
  std::erase(user.aliases, user.address);
  normalise_numbers(errors, field_name(prefix, "fax_numbers"), user.fax_numbers, options);
  normalise_numbers(errors, field_name(prefix, "mobile_numbers"), user.mobile_numbers, options);
  std::string field = field_name(prefix, "permissions");
  if (!too_long(errors, field, user.permissions.size(), DirectoryLimits::permissions)) {
    for (std::size_t i = 0; i < user.permissions.size(); ++i)
      normalise_service(errors, indexed(field, i), user.permissions[i]);
    sort_unique(user.permissions);
  }
  normalise_addresses(errors, field_name(prefix, "send_as"), user.send_as,
                      DirectoryLimits::send_as);
  std::erase(user.send_as, user.address);
  return out;
}

std::vector<FieldError> normalise_number(ServiceNumber& number, std::string_view prefix,
                                         const NormaliseOptions& options) {
  std::vector<FieldError> out;
  Errors errors(out);
  auto e164 = to_e164(number.number, options.default_region);
  if (e164)
    number.number = *e164;
  else
    errors.add(field_name(prefix, "number"), e164.error().message);
  normalise_tenant_id(errors, field_name(prefix, "tenant"), number.tenant);
  if (std::string problem = address_problem(number.mailbox); !problem.empty())
    errors.add(field_name(prefix, "mailbox"), problem);
  if (!number.service.empty())
    normalise_service(errors, field_name(prefix, "service"), number.service);
  check_text(errors, field_name(prefix, "description"), number.description);
  return out;
}

std::vector<FieldError> normalise_directory(TenantDirectory& directory,
                                            const NormaliseOptions& options) {
  std::vector<FieldError> out = normalise_tenant(directory.tenant, "tenant");
  Errors errors(out);
  const Tenant& tenant = directory.tenant;
  if (too_long(errors, "users", directory.users.size(), DirectoryLimits::users) ||
      too_long(errors, "numbers", directory.numbers.size(), DirectoryLimits::service_numbers))
    return out;
  // Each object on its own; the tenant is the directory's unless it names
  // another one.
  auto adopt_tenant = [&](std::string& tenant_of, const std::string& field) {
    if (tenant_of.empty() || to_lower_ascii(tenant_of) == tenant.id) {
      tenant_of = tenant.id;
      return;
    }
    errors.add(field,
               quoted(tenant_of) + " is another tenant than the directory's " + quoted(tenant.id));
  };
  auto append = [&](std::vector<FieldError> more) {
    for (auto& e : more) errors.add(std::move(e.field), std::move(e.message));
  };
  bool tenant_valid = valid_tenant_id(tenant.id);
  for (std::size_t i = 0; i < directory.users.size(); ++i) {
    User& user = directory.users[i];
    std::string prefix = indexed("users", i);
    adopt_tenant(user.tenant, prefix + ".tenant");
    if (!tenant_valid) user.tenant = "00000000-0000-0000-0000-000000000000";  // reported above
    append(normalise_user(user, prefix, options));
    if (!tenant_valid) user.tenant = tenant.id;
  }
  for (std::size_t i = 0; i < directory.numbers.size(); ++i) {
    ServiceNumber& number = directory.numbers[i];
    std::string prefix = indexed("numbers", i);
    adopt_tenant(number.tenant, prefix + ".tenant");
    if (!tenant_valid) number.tenant = "00000000-0000-0000-0000-000000000000";
    append(normalise_number(number, prefix, options));
    if (!tenant_valid) number.tenant = tenant.id;
  }
  // Across objects: every address and number once, addresses in the
  // tenant's domains, numbers' mailboxes among the users.
  std::map<std::string, std::string> address_owner;  // address or alias -> its field
  std::map<std::string, std::pair<std::size_t, std::string>> number_owner;  // -> user, field
  constexpr std::size_t kServiceNumber = static_cast<std::size_t>(-1);
  auto claim_address = [&](const std::string& address, const std::string& field) {
    auto [it, fresh] = address_owner.try_emplace(address, field);
    if (!fresh) errors.add(field, quoted(address) + " is also " + it->second);
    // A tenant without domains (created by a CSV import) does not restrict
    // addresses; the policy still needs a domain from [[tenant]] or a push.
    if (!tenant.domains.empty() && !in_domains(tenant.domains, address))
      errors.add(field, quoted(address) + " is not in a domain of the tenant");
  };
  auto claim_number = [&](const std::string& number, std::size_t owner, const std::string& field) {
    auto [it, fresh] = number_owner.try_emplace(number, owner, field);
    // A user may have one number as fax and mobile number; anything else
    // would make the number's owner ambiguous.
    if (!fresh && (it->second.first != owner || owner == kServiceNumber))
      errors.add(field, quoted(number) + " is also " + it->second.second);
  };
  for (std::size_t i = 0; i < directory.users.size(); ++i) {
    const User& user = directory.users[i];
    std::string prefix = indexed("users", i);
    if (!user.address.empty()) claim_address(user.address, prefix + ".address");
    for (std::size_t a = 0; a < user.aliases.size(); ++a)
      claim_address(user.aliases[a], indexed(prefix + ".aliases", a));
    // A delegation to a mailbox outside the tenant's domains would let the
    // user send as another tenant's mailbox.
    for (std::size_t a = 0; a < user.send_as.size(); ++a)
      if (!tenant.domains.empty() && !in_domains(tenant.domains, user.send_as[a]))
        errors.add(indexed(prefix + ".send_as", a),
                   quoted(user.send_as[a]) + " is not in a domain of the tenant");
    for (std::size_t n = 0; n < user.fax_numbers.size(); ++n)
      claim_number(user.fax_numbers[n], i, indexed(prefix + ".fax_numbers", n));
    for (std::size_t n = 0; n < user.mobile_numbers.size(); ++n)
      claim_number(user.mobile_numbers[n], i, indexed(prefix + ".mobile_numbers", n));
  }
  for (std::size_t i = 0; i < directory.numbers.size(); ++i) {
    const ServiceNumber& number = directory.numbers[i];
    std::string prefix = indexed("numbers", i);
    claim_number(number.number, kServiceNumber, prefix + ".number");
    if (!number.mailbox.empty() && !address_owner.contains(number.mailbox))
      errors.add(prefix + ".mailbox",
                 quoted(number.mailbox) + " is neither a user's address nor an alias of one");
  }
  return out;
}

}  // namespace bh::directory
