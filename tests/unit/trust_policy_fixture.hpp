// What the trust policy tests share (trust_policy_test.cpp,
// trust_policy_headers_test.cpp, trust_policy_directory_test.cpp): a
// directory stand-in, the configuration with the Microsoft 365 connector,
// the peers, senders and headers of the combination table.
#pragma once

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "policy/trust_policy.hpp"

namespace bh::trust_test {

inline const std::string kT1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
inline const std::string kT2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

inline directory::User make_user(std::string address, std::string tenant,
                                 std::vector<std::string> permissions,
                                 std::vector<std::string> aliases = {},
                                 std::vector<std::string> send_as = {}) {
  directory::User user;
  user.address = std::move(address);
  user.tenant = std::move(tenant);
  user.permissions = std::move(permissions);
  user.aliases = std::move(aliases);
  user.send_as = std::move(send_as);
  return user;
}

class FakeDirectory : public directory::DirectoryView {
 public:
  // By primary address or alias, case-insensitively, as DirectoryView asks.
  directory::Lookup<directory::User> find_user(std::string_view address) const override {
    if (!unavailable.empty()) return directory::Lookup<directory::User>::unavailable(unavailable);
    std::string key = to_lower_ascii(address);
    for (const auto& [primary, user] : users)
      if (primary == key ||
          std::find(user.aliases.begin(), user.aliases.end(), key) != user.aliases.end())
        return directory::Lookup<directory::User>::found(user);
    return directory::Lookup<directory::User>::absent();
  }
  directory::Lookup<directory::NumberOwner> find_number(std::string_view) const override {
    return directory::Lookup<directory::NumberOwner>::absent();
  }
  directory::Lookup<directory::Tenant> tenant(std::string_view id) const override {
    if (!unavailable.empty()) return directory::Lookup<directory::Tenant>::unavailable(unavailable);
    auto it = tenants.find(std::string(id));
    if (it == tenants.end()) return directory::Lookup<directory::Tenant>::absent();
    return directory::Lookup<directory::Tenant>::found(it->second);
  }
  std::string unavailable;  // set: every lookup answers unavailable with it
  std::map<std::string, directory::Tenant> tenants;
  std::map<std::string, directory::User> users{
      {"alice@contoso.test", make_user("alice@contoso.test", kT1, {"fax"})},
      {"bob@contoso.test", make_user("bob@contoso.test", kT1, {})},
      {"eve@fabrikam.test", make_user("eve@fabrikam.test", kT2, {"fax"})},
      {"fred@contoso.test", make_user("fred@contoso.test", kT1, {"fax"})},  // a colleague with fax
      {"carol@contoso.test",
       make_user("carol@contoso.test", kT2, {"fax"})},  // listed under another tenant
  };
};

inline TrustConfig config() {
  TrustConfig c;
  InboundConnector exo;
  exo.name = "exo";
  exo.kind = ConnectorKind::microsoft365;
  exo.certificate_names = {"mail.protection.outlook.com"};
  exo.ip_ranges = {*IpRange::parse("40.92.0.0/15"), *IpRange::parse("2a01:111:f400::/48")};
  exo.tenants = {kT1};
  exo.services = {"fax"};
  c.connectors.push_back(exo);
  c.tenants.push_back({kT1, "contoso", {"contoso.test", "contoso.onmicrosoft.com"}, true});
  c.tenants.push_back({kT2, "fabrikam", {"fabrikam.test"}, false});
  return c;
}

struct Fixture {
  RoutingTable routes{
      {Route{{"fax.example.test"}, "fax-out", "fax"}, Route{{"example.test"}, "files", ""}}};
  FakeDirectory directory;
  TrustPolicy policy{config(), routes, &directory};
};

enum class Cert { none, self_signed, wrong_name, right_name };
enum class Ip { in_range, out_of_range };
enum class TenantHeader { none, good, foreign, two, malformed };
enum class Sender { unknown, other_tenant, no_permission, allowed };

inline PeerFacts peer(Cert cert, Ip ip) {
  PeerFacts p;
  p.ip = IpAddress::parse(ip == Ip::in_range ? "40.93.1.2" : "198.51.100.7");
  p.tls = true;
  switch (cert) {
    case Cert::none:
      break;
    case Cert::self_signed:  // right name, but the chain did not verify
      p.cert_common_name = "mail.protection.outlook.com";
      break;
    case Cert::wrong_name:
      p.cert_verified = true;
      p.cert_common_name = "mail.example.net";
      p.cert_dns_names = {"mail.example.net"};
      break;
    case Cert::right_name:
      p.cert_verified = true;
      p.cert_common_name = "mail.protection.outlook.com";
      p.cert_dns_names = {"mail.protection.outlook.com"};
      break;
  }
  return p;
}

inline std::string sender_of(Sender s) {
  switch (s) {
    case Sender::unknown:
      return "mallory@contoso.test";
    case Sender::other_tenant:
      return "eve@fabrikam.test";
    case Sender::no_permission:
      return "bob@contoso.test";
    case Sender::allowed:
      return "alice@contoso.test";
  }
  return "";
}

inline std::string headers_of(TenantHeader h, const std::string& from) {
  std::string out = "Received: from x\r\n\tby y; date\r\nFrom: Someone <" + from + ">\r\n";
  switch (h) {
    case TenantHeader::none:
      break;
    case TenantHeader::good:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n";
      break;
    case TenantHeader::foreign:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT2 + "\r\n";
      break;
    case TenantHeader::two:
      out += "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\nX-MS-Exchange-CrossTenant-Id: " + kT1 +
             "\r\n";
      break;
    case TenantHeader::malformed:
      out += "X-MS-Exchange-CrossTenant-Id: not-a-guid\r\n";
      break;
  }
  // What Exchange Online stamps on a tenant user's mail (internal, hosted).
  out +=
      "X-MS-Exchange-CrossTenant-AuthAs: Internal\r\n"
      "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted\r\n";
  out += "X-OriginatorOrg: contoso.onmicrosoft.com\r\nSubject: fax\r\n\r\nbody\r\n";
  return out;
}

// The whole conversation: MAIL, RCPT to the fax route, end of DATA.
inline std::string outcome(Fixture& f, Cert cert, Ip ip, TenantHeader header, Sender sender) {
  PeerFacts facts = peer(cert, ip);
  const InboundConnector* connector = f.policy.identify(facts);
  std::string address = sender_of(sender);
  Envelope envelope;
  envelope.sender = *parse_path("<" + address + ">", false, false).address;
  Recipient fax{*parse_path("<+4930123456@fax.example.test>", false, false).address};
  auto show = [](const Verdict& v) { return fmt::format("{} {} {}", v.code, v.enhanced, v.reply); };
  Verdict mail = f.policy.on_mail(connector, facts);
  if (!mail.accepted) return show(mail);
  Verdict rcpt = f.policy.on_rcpt(connector, facts, envelope.sender, fax);
  if (!rcpt.accepted) return show(rcpt);
  envelope.recipients.push_back(fax);
  std::string content = headers_of(header, address);
  DataDecision data = f.policy.on_data(connector, facts, envelope, content);
  return data.verdict.accepted ? "250 accepted" : show(data.verdict);
}

inline const std::string kTenantLines =
    "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\nX-OriginatorOrg: contoso.onmicrosoft.com\r\n";
inline const std::string kInternal =
    "X-MS-Exchange-CrossTenant-AuthAs: Internal\r\n"
    "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted\r\n";
inline const std::string kInternet =
    "550 5.7.1 Message refused: mail that entered the tenant from the internet may not use "
    "this service";

struct Policy {
  RoutingTable routes{
      {Route{{"fax.example.test"}, "fax-out", "fax"}, Route{{"example.test"}, "files", ""}}};
  FakeDirectory directory;
  TrustPolicy policy;
  explicit Policy(TrustConfig c = config()) : policy(std::move(c), routes, &directory) {}
};

// End of DATA on the verified Microsoft 365 connection, one fax recipient.
inline DataDecision m365_data(const TrustPolicy& policy, const std::string& sender,
                              const std::string& header_lines) {
  PeerFacts facts = peer(Cert::right_name, Ip::in_range);
  const InboundConnector* c = policy.identify(facts);
  EXPECT_NE(c, nullptr);
  Envelope envelope;
  if (!sender.empty()) envelope.sender = *parse_path("<" + sender + ">", false, false).address;
  envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
  std::string content = header_lines + "Subject: fax\r\n\r\nbody\r\n";
  return policy.on_data(c, facts, envelope, content);
}

inline std::string show(const Verdict& v) {
  return v.accepted ? "250 accepted" : fmt::format("{} {} {}", v.code, v.enhanced, v.reply);
}

}  // namespace bh::trust_test
