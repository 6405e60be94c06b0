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
