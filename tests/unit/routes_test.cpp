#include <gtest/gtest.h>

#include "mail/address.hpp"
#include "policy/routes.hpp"

using namespace bh;

// Issue 8.3: address spaces as Exchange Online has them; the most specific
// match wins whatever the order in the file.
TEST(Routes, MostSpecificAddressSpaceWinsInAnyOrder) {
  std::vector<Route> routes = {{{"*"}, "default", ""},
                               {{"*.example.com"}, "subdomains", ""},
                               {{"*.fax.example.com"}, "fax-subdomains", ""},
                               {{"example.com"}, "domain", ""},
                               {{"fax@example.com"}, "one-address", ""}};
  for (int order = 0; order < 2; ++order) {
    RoutingTable table(routes);
    auto connector = [&](std::string local, std::string domain) {
      const Route* r = table.find(Address{std::move(local), std::move(domain)});
      return r ? r->connector : std::string("(none)");
    };
    EXPECT_EQ(connector("fax", "example.com"), "one-address");
    EXPECT_EQ(connector("FAX", "Example.COM."), "one-address");
    EXPECT_EQ(connector("other", "example.com"), "domain");
    EXPECT_EQ(connector("x", "a.example.com"), "subdomains");
    EXPECT_EQ(connector("x", "b.fax.example.com"), "fax-subdomains");
    EXPECT_EQ(connector("x", "fax.example.com"), "subdomains");  // "*.d" is strictly below d
    EXPECT_EQ(connector("x", "elsewhere.test"), "default");
    EXPECT_EQ(table.find("example.com")->connector, "domain");  // domain spaces only
    std::reverse(routes.begin(), routes.end());
  }
}

TEST(Routes, WithoutStarUnknownDomainsHaveNoRoute) {
  RoutingTable table({{{"example.com", "*.example.org"}, "out", ""}});
  EXPECT_EQ(table.find(Address{"a", "example.net"}), nullptr);
  EXPECT_EQ(table.find(Address{"a", "example.org"}), nullptr);
  EXPECT_NE(table.find(Address{"a", "x.example.org"}), nullptr);
}

// Issue 8.3: mail from tenant A for "*" goes back to A's Exchange Online,
// from tenant B to B's; a scoped route beats an unscoped one for the same
// address space, and a more specific address space beats any scope.
TEST(Routes, ScopedByTenantAndInboundConnector) {
  Route a{{"*"}, "exo-a", ""};
  a.from_tenants = {"aaaaaaaa-0000-0000-0000-000000000001"};
  Route b{{"*"}, "exo-b", ""};
  b.from_tenants = {"bbbbbbbb-0000-0000-0000-000000000002"};
  Route partner{{"*"}, "partner-out", ""};
  partner.from_connectors = {"partner-in"};
  Route fax{{"fax.example.com"}, "hylafax", "fax"};
  RoutingTable table({{{"*"}, "internet", ""}, a, b, partner, fax});
  auto to = [&](std::string domain, RouteScope scope) {
    const Route* r = table.find(Address{"x", std::move(domain)}, scope);
    return r ? r->connector : std::string("(none)");
  };
  EXPECT_EQ(to("contoso.com", {"exo", "aaaaaaaa-0000-0000-0000-000000000001"}), "exo-a");
  EXPECT_EQ(to("contoso.com", {"exo", "bbbbbbbb-0000-0000-0000-000000000002"}), "exo-b");
  EXPECT_EQ(to("contoso.com", {"exo", "cccccccc-0000-0000-0000-000000000003"}), "internet");
  EXPECT_EQ(to("contoso.com", {"exo", ""}), "internet");
  EXPECT_EQ(to("contoso.com", {"partner-in", ""}), "partner-out");
  // Tenant scope ranks over connector scope.
  EXPECT_EQ(to("contoso.com", {"partner-in", "aaaaaaaa-0000-0000-0000-000000000001"}), "exo-a");
  EXPECT_EQ(to("fax.example.com", {"exo", "aaaaaaaa-0000-0000-0000-000000000001"}), "hylafax");
  // At RCPT TO the tenant is unknown: some route exists.
  EXPECT_NE(table.find(Address{"x", "contoso.com"}, RouteScope{"exo", "", false}), nullptr);
  RoutingTable only_scoped({a});
  EXPECT_NE(only_scoped.find(Address{"x", "contoso.com"}, RouteScope{"exo", "", false}), nullptr);
  EXPECT_EQ(only_scoped.find(Address{"x", "contoso.com"}, RouteScope{"exo", "", true}), nullptr);
}
