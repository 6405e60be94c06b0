#include "connectors/fax/fax_address.hpp"

#include <gtest/gtest.h>

namespace fax = bh::connectors::fax;
using Kind = fax::FaxAddressParse::Kind;

namespace {

const std::vector<std::string> kDomains{"fax.example.com", "Fax.Example.NET"};

fax::FaxAddressParse parse(const std::string& local, const std::string& domain,
                           const std::string& region = "DE") {
  return fax::parse_fax_address(bh::Address{local, domain}, kDomains, region);
}

}  // namespace

TEST(FaxAddress, NumbersInEveryWrittenForm) {
  struct Case {
    std::string local, domain, region, number, subaddress;
  };
  const Case cases[] = {
      {"+4930123456", "fax.example.com", "DE", "+4930123456", ""},
      {"004930123456", "fax.example.com", "DE", "+4930123456", ""},
      {"030123456", "fax.example.com", "DE", "+4930123456", ""},
      {"030-123.456", "FAX.example.com.", "DE", "+4930123456", ""},
      {"FAX=+49-30-123456", "fax.example.net", "DE", "+4930123456", ""},
      {"fax=+49.30.123456", "fax.example.com", "DE", "+4930123456", ""},
      {"FAX=+12027653000/T33S=1387", "fax.example.com", "DE", "+12027653000", "1387"},
      {"Fax=+12027653000/t33s=6", "fax.example.com", "DE", "+12027653000", "6"},
      {"02079460123", "fax.example.com", "GB", "+442079460123", ""},
      {"FAX=030123456", "fax.example.com", "DE", "+4930123456", ""},
  };
  for (const Case& c : cases) {
    fax::FaxAddressParse p = parse(c.local, c.domain, c.region);
    ASSERT_EQ(p.kind, Kind::number) << c.local << ": " << p.reason;
    EXPECT_EQ(p.address.number, c.number) << c.local;
    EXPECT_EQ(p.address.subaddress, c.subaddress) << c.local;
  }
}

TEST(FaxAddress, NotANumberSaysWhy) {
  struct Case {
    std::string local, reason_part;
  };
  const Case cases[] = {
      {"ann", "'ann' is not a fax number"},
      {"+49 30 123456", "is not a fax number"},
      {"\"+4930123456\"", "is not a fax number"},
      {"FAX=", "names no fax number"},
      {"+4912", "not a valid number in DE"},
      {"+999123456", "unknown country code"},
      {"FAX=+4930123456/T33S=", "T33S sub-address must be 1 to 20 digits"},
      {"FAX=+4930123456/T33S=12a", "T33S sub-address"},
      {"FAX=+4930123456/X=1", "the only qualifier"},
      {"+49+30123456", "is not a fax number"},
      {"4930123456x", "is not a fax number"},
  };
  for (const Case& c : cases) {
    fax::FaxAddressParse p = parse(c.local, "fax.example.com");
    EXPECT_EQ(p.kind, Kind::invalid) << c.local;
    EXPECT_NE(p.reason.find(c.reason_part), std::string::npos) << c.local << ": " << p.reason;
  }
}

TEST(FaxAddress, OtherDomainsAreNotOurs) {
  EXPECT_EQ(parse("+4930123456", "example.com").kind, Kind::not_ours);
  EXPECT_EQ(parse("+4930123456", "sub.fax.example.com").kind, Kind::not_ours);
  EXPECT_EQ(parse("ann", "mail.example.com").kind, Kind::not_ours);
}
