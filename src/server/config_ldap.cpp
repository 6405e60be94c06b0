// [[directory.ldap]] tables (docs/directory.md): the LDAP sources of
// `bridgehead directory sync ldap`.
#include <algorithm>
#include <map>

#include "directory/directory.hpp"
#include "directory/validate.hpp"
#include "server/config_reader.hpp"
#include "util/printable.hpp"

namespace bh::config_detail {
namespace {

std::string quoted(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

// An attribute description: a name (letters, digits, '-') or an OID,
// optionally with options (";binary").
bool valid_attribute(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == ';'))
      return false;
  return true;
}

// Parentheses balanced and around the whole filter: the server checks
// the rest, but a typo here would otherwise read as "no users".
bool plausible_filter(std::string_view filter) {
  if (filter.size() < 3 || filter.front() != '(' || filter.back() != ')') return false;
  int depth = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '\\') {
      ++i;  // an escaped byte (\28 is written as hex, but be lenient)
      continue;
    }
    if (filter[i] == '(') ++depth;
    if (filter[i] == ')' && --depth < 0) return false;
    if (depth == 0 && i + 1 < filter.size()) return false;
  }
  return depth == 0;
}

void read_attributes(TableReader& r, directory::LdapAttributes& a) {
  struct Key {
    const char* key;
    std::string& value;
    bool may_be_empty;
  };
  Key keys[] = {{"mail", a.mail, false},
                {"proxy_addresses", a.proxy_addresses, false},
                {"fax", a.fax, false},
                {"mobile", a.mobile, false},
                {"display_name", a.display_name, false},
                {"member_of", a.member_of, true},
                {"member", a.member, false},
                {"delegates", a.delegates, true},
                {"send_as_of", a.send_as_of, true}};
  for (Key& k : keys) {
    r.text(k.key, k.value);
    if (!r.table().contains(k.key) || !r.node(k.key)->is_string()) continue;
    if (k.value.empty() ? !k.may_be_empty : !valid_attribute(k.value))
      r.error(*r.node(k.key), k.key,
              quoted(k.value) + " is not an attribute name" +
                  (k.may_be_empty ? " (\"\" : not read)" : ""));
  }
}

void read_groups(TableReader& r, const std::string& source, std::vector<std::string>& errors,
                 std::map<std::string, std::vector<std::string>>& groups) {
  const toml::node* n = r.node("groups");
  if (!n) return;
  if (!n->is_table())
    return r.error(*n, "groups",
                   "must be a table of service = \"group DN\" (or a list of group DNs)");
  TableReader g(*n->as_table(), r.qualified("groups"), source, errors);
  for (auto&& [key, value] : *n->as_table()) {
    std::string service(key.str());
    g.node(service);  // seen
    if (!directory::valid_service_name(service)) {
      g.error(value, service,
              "is not a service name (lower-case letters, digits, '-' and '_', 1 to 32)");
      continue;
    }
    std::vector<std::string> dns;
    bool valid = true;
    if (value.is_string()) {
      dns.push_back(*value.value<std::string>());
    } else if (const toml::array* list = value.as_array()) {
      for (const toml::node& item : *list) {
        valid = valid && item.is_string();
        if (item.is_string()) dns.push_back(*item.value<std::string>());
      }
    }
    if (!valid || dns.empty() || std::find(dns.begin(), dns.end(), "") != dns.end()) {
      g.error(value, service, "must be a group DN or a non-empty list of group DNs");
      continue;
    }
    groups[service] = std::move(dns);
  }
}

directory::LdapSource read_source(TableReader& r, const std::string& source,
                                  std::vector<std::string>& errors) {
  directory::LdapSource s;
  r.text("tenant", s.tenant, true);
  r.text("tenant_name", s.tenant_name);
  r.strings("domains", s.domains, false);
  if (r.table().contains("tenant") && r.node("tenant")->is_string()) {
    directory::Tenant tenant{s.tenant, s.tenant_name, s.domains};
    for (const auto& e : directory::normalise_tenant(tenant, "")) {
      std::string key = e.field.starts_with("domains") ? "domains"
                        : e.field == "name"            ? "tenant_name"
                                                       : "tenant";
      if (r.table().contains(key)) r.error(*r.node(key), key, e.message);
    }
    s.tenant = tenant.id;
    s.domains = tenant.domains;
  }
  r.text("url", s.url, true);
  bool ldaps = s.url.starts_with("ldaps://");
  if (r.table().contains("url") && !ldaps && !s.url.starts_with("ldap://"))
    r.error(*r.node("url"), "url", quoted(s.url) + " must start with ldap:// or ldaps://");
  r.boolean("starttls", s.starttls);
  if (s.starttls && ldaps)
    r.error(*r.node("starttls"), "starttls", "ldaps:// is TLS already; StartTLS is for ldap://");
  r.boolean("allow_plaintext", s.allow_plaintext);
  if (r.table().contains("url") && s.url.starts_with("ldap://") && !s.starttls &&
      !s.allow_plaintext)
    r.error(*r.node("url"), "url",
            quoted(s.url) +
                " would send the bind password in clear: use ldaps://, starttls = true, or"
                " allow_plaintext = true on this source if the path is trusted");
  r.path("ca_file", s.ca_file);
  r.text("bind_dn", s.bind_dn, true);
  r.path("password_file", s.password_file, true);
  r.text("base_dn", s.base_dn, true);
  r.text("filter", s.filter);
  if (r.table().contains("filter") && r.node("filter")->is_string() && !plausible_filter(s.filter))
    r.error(*r.node("filter"), "filter",
            quoted(s.filter) + " is not an LDAP filter (one parenthesised expression)");
  r.number("page_size", s.page_size, 1, directory::kLdapMaxPageSize);
  r.number("timeout", s.timeout_seconds, 1, 3600);
  r.number("interval", s.interval_seconds, 1, 7 * 86400);
  std::string on_error = "abort";
  r.text("on_error", on_error);
  if (on_error == "skip")
    s.on_error = directory::LdapOnError::skip;
  else if (on_error != "abort")
    r.error(*r.node("on_error"), "on_error", "must be \"abort\" or \"skip\"");
  r.boolean("allow_empty", s.allow_empty);
  if (const toml::node* n = r.node("attributes")) {
    if (const toml::table* table = n->as_table()) {
      TableReader a(*table, r.qualified("attributes"), source, errors);
      read_attributes(a, s.attributes);
    } else {
      r.error(*n, "attributes", "must be a [directory.ldap.attributes] table");
    }
  }
  read_groups(r, source, errors, s.groups);
  r.boolean("nested_groups", s.nested_groups);
  return s;
}

}  // namespace

void read_ldap_sources(TableReader& directory, std::vector<directory::LdapSource>& out) {
  const std::string& source = directory.source();
  std::vector<std::string>& errors = directory.errors();
  const toml::node* n = directory.node("ldap");
  if (!n) return;
  const toml::array* array = n->as_array();
  if (!array || !array->is_array_of_tables())
    return directory.error(*n, "ldap", "must be written as [[directory.ldap]] tables");
  std::map<std::string, std::size_t> tenant_line;
  std::size_t index = 0;
  for (const toml::node& item : *array) {
    TableReader r(*item.as_table(), fmt::format("{}[{}]", directory.qualified("ldap"), index++),
                  source, errors);
    out.push_back(read_source(r, source, errors));
    const std::string& tenant = out.back().tenant;
    if (tenant.empty()) continue;
    // Each sync replaces its tenant's users: two sources would take turns.
    auto [first, fresh] = tenant_line.try_emplace(tenant, r.line("tenant"));
    if (!fresh)
      r.error(*r.node("tenant"), "tenant",
              fmt::format("tenant {} has a [[directory.ldap]] source already (line {})", tenant,
                          first->second));
  }
}

}  // namespace bh::config_detail
