// Trust decisions with the directory (issue 9 section 1): aliases,
// send-as delegations, tenants pushed into the directory, and a directory
// that is unavailable.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "policy/trust_policy.hpp"
#include "tests/unit/trust_policy_fixture.hpp"

using namespace bh;
using namespace bh::trust_test;

namespace {

// A directory with an alias, a shared mailbox and a delegation.
void add_directory_entries(FakeDirectory& d) {
  d.users["alice@contoso.test"] =
      make_user("alice@contoso.test", kT1, {"fax"}, {"alice.smith@contoso.test", "as@contoso.test"},
                {"accounts@contoso.test"});
  d.users["accounts@contoso.test"] =  // a shared mailbox, no permission of its own
      make_user("accounts@contoso.test", kT1, {}, {"billing@contoso.test"});
  d.users["bob@contoso.test"] =
      make_user("bob@contoso.test", kT1, {}, {}, {"accounts@contoso.test"});
}

}  // namespace

TEST(TrustPolicy, AliasesAndDelegationsOfTheSender) {
  struct Case {
    std::string sender;
    std::string from;
    std::string expected;
    std::string reason;  // part of the log reason
  };
  const std::vector<Case> cases = {
      // The envelope sender by alias: its user's permissions.
      {"Alice.Smith@contoso.test", "alice.smith@contoso.test", "250 accepted", "tenant " + kT1},
      // A From: that is an alias of the sender's own user.
      {"alice@contoso.test", "as@contoso.test", "250 accepted", "an alias of the sender"},
      {"as@contoso.test", "alice@contoso.test", "250 accepted", "an alias of the sender"},
      // Send-as: the shared mailbox, by its address or its alias.
      {"alice@contoso.test", "accounts@contoso.test", "250 accepted", "send-as delegation"},
      {"alice@contoso.test", "Billing@contoso.test", "250 accepted", "send-as delegation"},
      // A delegation without the permission does not pass.
      {"bob@contoso.test", "accounts@contoso.test",
       "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service",
       "no fax permission"},
      // No delegation, and the mailbox has no permission of its own.
      {"fred@contoso.test", "accounts@contoso.test",
       "550 5.7.1 From: <accounts@contoso.test> is not permitted to use the fax service",
       "has no fax permission"},
      // Someone else's alias is someone else.
      {"fred@contoso.test", "as@contoso.test", "250 accepted", "From: mailbox allowed too"},
      {"bob@contoso.test", "as@contoso.test",
       "550 5.7.1 Sender <bob@contoso.test> is not permitted to use the fax service",
       "no fax permission"},
  };
  Policy p;
  add_directory_entries(p.directory);
  for (const Case& c : cases) {
    Verdict v = m365_data(p.policy, c.sender, kTenantLines + kInternal + "From: " + c.from + "\r\n")
                    .verdict;
    EXPECT_EQ(show(v), c.expected) << c.sender << " / " << c.from;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos)
        << c.sender << " / " << c.from << ": " << v.reason;
  }
}

TEST(TrustPolicy, TenantsPushedIntoTheDirectory) {
  const std::string kT3 = "0b0b0b0b-1111-4222-8333-444444444444";
  TrustConfig c = config();
  c.connectors[0].directory_tenants = true;  // exo accepts the directory's tenants too
  InboundConnector partner;
  partner.name = "relay";
  partner.ip_ranges = {*IpRange::parse("198.51.100.0/24")};
  partner.services = {"fax"};
  c.connectors.push_back(partner);
  Policy p(c);
  p.directory.tenants[kT3] = {kT3, "Northwind", {"northwind.test"}};
  p.directory.tenants[kT1] = {kT1, "Contoso", {"contoso.example"}};  // adds a domain
  p.directory.users["nina@northwind.test"] = make_user("nina@northwind.test", kT3, {"fax"});
  p.directory.users["olga@northwind.test"] = make_user("olga@northwind.test", kT3, {});
  p.directory.users["alice@contoso.example"] = make_user("alice@contoso.example", kT1, {"fax"});
  auto tenant_lines = [](const std::string& id, const std::string& org) {
    return "X-MS-Exchange-CrossTenant-Id: " + id + "\r\nX-OriginatorOrg: " + org + "\r\n" +
           kInternal;
  };
  // A tenant only in the directory, through a connector that accepts them.
  EXPECT_EQ(show(m365_data(p.policy, "nina@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: nina@northwind.test\r\n")
                     .verdict),
            "250 accepted");
  EXPECT_EQ(show(m365_data(p.policy, "olga@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: olga@northwind.test\r\n")
                     .verdict),
            "550 5.7.1 Sender <olga@northwind.test> is not permitted to use the fax service");
  // Review F2: a configured tenant's domains are the config's; a domain
  // pushed for it is not merged in (the tenant's token asserted it).
  EXPECT_EQ(show(m365_data(p.policy, "alice@contoso.example",
                           tenant_lines(kT1, "contoso.example") + "From: alice@contoso.example\r\n")
                     .verdict),
            "550 5.7.1 Message refused: X-OriginatorOrg contoso.example does not belong to the "
            "tenant");
  EXPECT_EQ(show(m365_data(p.policy, "alice@contoso.example",
                           tenant_lines(kT1, "contoso.test") + "From: alice@contoso.example\r\n")
                     .verdict),
            "550 5.7.1 Sender <alice@contoso.example> does not belong to the sending tenant");
  // Without directory_tenants the connector names its tenants.
  Policy plain;
  plain.directory.tenants = p.directory.tenants;
  plain.directory.users = p.directory.users;
  EXPECT_EQ(show(m365_data(plain.policy, "nina@northwind.test",
                           tenant_lines(kT3, "northwind.test") + "From: nina@northwind.test\r\n")
                     .verdict),
            "550 5.7.1 Message refused: tenant " + kT3 + " is not accepted by connector exo");
}

// Review F4: on a partner or internal connector a tenant known only from
// the directory counts only with directory_tenants = true; a [[tenant]]
// counts on any connector.
TEST(TrustPolicy, DirectoryTenantsNeedTheConnectorsOptIn) {
  const std::string kT3 = "0b0b0b0b-1111-4222-8333-444444444444";
  struct Case {
    bool directory_tenants;
    std::string sender;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {true, "nina@northwind.test", "250 accepted"},
      {false, "nina@northwind.test",
       "550 5.7.1 Sender <nina@northwind.test> is not permitted to use the fax service"},
      {true, "alice@contoso.test", "250 accepted"},
      {false, "alice@contoso.test", "250 accepted"},
  };
  for (const Case& k : cases) {
    TrustConfig c = config();
    InboundConnector partner;
    partner.name = "relay";
    partner.ip_ranges = {*IpRange::parse("198.51.100.0/24")};
    partner.services = {"fax"};
    partner.directory_tenants = k.directory_tenants;
    c.connectors.push_back(partner);
    Policy p(c);
    p.directory.tenants[kT3] = {kT3, "Northwind", {"northwind.test"}};
    p.directory.users["nina@northwind.test"] = make_user("nina@northwind.test", kT3, {"fax"});
    PeerFacts facts = peer(Cert::none, Ip::out_of_range);
    const InboundConnector* relay = p.policy.identify(facts);
    ASSERT_NE(relay, nullptr);
    Envelope envelope;
    auto at = k.sender.find('@');
    envelope.sender = Address{k.sender.substr(0, at), k.sender.substr(at + 1)};
    envelope.recipients.push_back({Address{"+4930123456", "fax.example.test"}});
    std::string content = "From: " + k.sender + "\r\nSubject: s\r\n\r\nbody\r\n";
    Verdict v = p.policy.on_data(relay, facts, envelope, content).verdict;
    EXPECT_EQ(show(v), k.expected) << k.sender << " directory_tenants=" << k.directory_tenants;
  }
}

// Review F3: a send-as delegation never makes another tenant's mailbox (a
// user of that tenant, or outside the sender tenant's domains) pass.
TEST(TrustPolicy, SendAsStaysInsideTheSendersTenant) {
  struct Case {
    std::string from;
    std::string expected;
    std::string reason;
  };
  const std::vector<Case> cases = {
      // carol@contoso.test is a directory user of fabrikam (kT2).
      {"carol@contoso.test",
       "550 5.7.1 From: <carol@contoso.test> is not permitted to use the fax service",
       "belongs to tenant " + kT2},
      // eve@fabrikam.test: another tenant's user in another tenant's domain.
      {"eve@fabrikam.test", "550 5.7.1 From: address does not belong to the sending tenant",
       "not a domain of tenant"},
      // A delegated mailbox of the own tenant still passes.
      {"accounts@contoso.test", "250 accepted", "send-as delegation"},
  };
  Policy p;
  add_directory_entries(p.directory);
  p.directory.users["alice@contoso.test"].send_as = {"accounts@contoso.test", "carol@contoso.test",
                                                     "eve@fabrikam.test"};
  for (const Case& c : cases) {
    Verdict v = m365_data(p.policy, "alice@contoso.test",
                          kTenantLines + kInternal + "From: " + c.from + "\r\n")
                    .verdict;
    EXPECT_EQ(show(v), c.expected) << c.from;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.from << ": " << v.reason;
  }
}

TEST(TrustPolicy, UnavailableDirectoryIsATemporaryFailure) {
  TrustConfig c = config();
  c.connectors[0].directory_tenants = true;
  Policy p(c);
  p.directory.unavailable = "the directory was never loaded from the store";
  const std::string temporary =
      "451 4.3.0 Temporary failure: the directory is unavailable, try again later";
  const std::string unknown_tenant = "0b0b0b0b-1111-4222-8333-444444444444";
  struct Case {
    std::string what;
    std::string tenant_lines;
    std::string sender;
  };
  const std::vector<Case> cases = {
      {"configured tenant", kTenantLines + kInternal, "alice@contoso.test"},
      {"an unknown sender", kTenantLines + kInternal, "mallory@contoso.test"},
      {"a tenant the connector may accept through the directory",
       "X-MS-Exchange-CrossTenant-Id: " + unknown_tenant + "\r\n" + kInternal,
       "alice@contoso.test"},
  };
  for (const Case& k : cases) {
    Verdict v =
        m365_data(p.policy, k.sender, k.tenant_lines + "From: " + k.sender + "\r\n").verdict;
    EXPECT_EQ(show(v), temporary) << k.what;
    EXPECT_EQ(v.reason, "directory unavailable: the directory was never loaded from the store")
        << k.what;
  }
  // Verified Microsoft 365 mail to a route without a service needs no
  // directory decision (X-OriginatorOrg is among the configured domains).
  {
    PeerFacts m365 = peer(Cert::right_name, Ip::in_range);
    const InboundConnector* exo = p.policy.identify(m365);
    Envelope plain;
    plain.sender = Address{"alice", "contoso.test"};
    plain.recipients.push_back({Address{"b", "example.test"}});
    std::string content = kTenantLines + kInternal + "From: alice@contoso.test\r\n\r\nbody\r\n";
    EXPECT_TRUE(p.policy.on_data(exo, m365, plain, content).verdict.accepted);
    std::string no_org = "X-MS-Exchange-CrossTenant-Id: " + kT1 + "\r\n" + kInternal +
                         "From: alice@contoso.test\r\n\r\nbody\r\n";
    EXPECT_EQ(show(p.policy.on_data(exo, m365, plain, no_org).verdict),
              "550 5.7.1 Message refused: X-OriginatorOrg (missing) does not belong to the tenant");
  }
  // Nor is mail from connections without a connector.
  PeerFacts facts = peer(Cert::none, Ip::in_range);
  Envelope envelope;
  envelope.sender = Address{"a", "example.net"};
  envelope.recipients.push_back({Address{"b", "example.test"}});
  std::string content = "From: a@example.net\r\nSubject: s\r\n\r\nbody\r\n";
  EXPECT_TRUE(p.policy.on_data(nullptr, facts, envelope, content).verdict.accepted);
}
