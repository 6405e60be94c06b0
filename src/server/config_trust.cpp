// [access], [[inbound_connector]], [[tenant]] (docs/inbound-trust.md).
#include <algorithm>
#include <set>

#include "policy/trust_policy.hpp"
#include "server/config_reader.hpp"

namespace bh::config_detail {
namespace {

std::vector<IpRange> read_ranges(TableReader& r, const std::string& key) {
  std::vector<IpRange> ranges;
  std::vector<std::string> texts;
  if (!r.table().contains(key)) return ranges;
  r.strings(key, texts, false);
  for (const std::string& text : texts) {
    auto range = IpRange::parse(text);
    if (!range) {
      r.error(*r.node(key), key, "\"" + text + "\" is not an IP address or CIDR range");
      continue;
    }
    ranges.push_back(*range);
  }
  return ranges;
}

std::vector<std::string> read_lower_list(TableReader& r, const std::string& key) {
  std::vector<std::string> values;
  if (r.table().contains(key)) r.strings(key, values, false);
  for (auto& v : values) v = to_lower_ascii(v);
  return values;
}

}  // namespace

void read_access(TableReader& r, AccessLists& access) {
  access.allow = read_ranges(r, "allow");
  access.block = read_ranges(r, "block");
  std::string at = "connect";
  r.text("block_at", at);
  if (at == "rcpt") {
    access.block_at = BlockAt::rcpt;
  } else if (at != "connect") {
    r.error(*r.node("block_at"), "block_at", "must be \"connect\" or \"rcpt\"");
  }
}

InboundConnector read_inbound_connector(TableReader& r, const std::vector<Tenant>& tenants) {
  InboundConnector c;
  r.text("name", c.name, true);
  std::string kind;
  r.text("kind", kind, true);
  if (auto parsed = kind_from(kind)) {
    c.kind = *parsed;
  } else if (!kind.empty()) {
    r.error(*r.node("kind"), "kind", "must be microsoft365, partner or internal");
  }
  c.certificate_names = read_lower_list(r, "certificate_names");
  r.text("ca_file", c.ca_file);
  if (!c.ca_file.empty() && c.certificate_names.empty())
    r.error(*r.node("ca_file"), "ca_file", "only a connector with certificate_names uses ca_file");
  c.ip_ranges = read_ranges(r, "ip_ranges");
  r.boolean("require_tls", c.require_tls);
  c.tenants = read_lower_list(r, "tenants");
  for (const auto& t : c.tenants)
    if (!is_tenant_guid(t))
      r.error(*r.node("tenants"), "tenants", "\"" + t + "\" is not a tenant id");
  r.boolean("directory_tenants", c.directory_tenants);
  c.services = read_lower_list(r, "services");
  r.boolean("allow_internet_mail", c.allow_internet_mail);
  c.restrict_sender_domains = read_lower_list(r, "restrict_sender_domains");
  if (c.certificate_names.empty() && c.ip_ranges.empty())
    r.missing("certificate_names or ip_ranges");
  // Every tenant shares Microsoft's IPs: only the certificate proves Exchange Online.
  if (c.kind == ConnectorKind::microsoft365 && c.certificate_names.empty())
    r.missing("certificate_names (a microsoft365 connector is identified by certificate)");
  if (c.kind == ConnectorKind::microsoft365 && c.tenants.empty() && !c.directory_tenants)
    r.missing(
        "tenants (a microsoft365 connector accepts only the tenants it names, or with "
        "directory_tenants = true those in the directory)");
  return c;
}

Tenant read_tenant(TableReader& r) {
  Tenant t;
  r.text("id", t.id, true);
  t.id = to_lower_ascii(t.id);
  if (!t.id.empty() && !is_tenant_guid(t.id))
    r.error(*r.node("id"), "id", "\"" + t.id + "\" is not a tenant id (GUID)");
  r.text("name", t.name);
  t.domains = read_lower_list(r, "domains");
  if (t.domains.empty()) r.missing("domains");
  r.boolean("check_originator_org", t.check_originator_org);
  std::string sender_check = "envelope_and_from";
  r.text("sender_check", sender_check);
  if (sender_check == "envelope") {
    t.sender_check = SenderCheck::envelope;
  } else if (sender_check != "envelope_and_from") {
    r.error(*r.node("sender_check"), "sender_check",
            "must be \"envelope_and_from\" or \"envelope\"");
  }
  return t;
}

void check_trust(const TrustConfig& trust, const std::string& source,
                 std::vector<std::string>& errors) {
  std::set<std::string> names, ids;
  for (const auto& t : trust.tenants)
    if (!ids.insert(t.id).second)
      errors.push_back(fmt::format("{}: tenant: id {} is defined twice", source, t.id));
  for (const auto& c : trust.connectors) {
    if (!names.insert(c.name).second)
      errors.push_back(fmt::format("{}: inbound_connector: name {} is used twice", source, c.name));
  }
}

}  // namespace bh::config_detail
