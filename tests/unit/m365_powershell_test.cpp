// PowerShell quoting, topology names and the certificate name reader of
// `bridgehead m365 setup`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "m365/certificate_names.hpp"
#include "m365/powershell.hpp"
#include "m365/setup.hpp"
#include "tests/unit/m365_test_pki.hpp"
#include "util/printable.hpp"

using bh::m365::quote;

TEST(M365PowerShell, QuotesInSingleQuotesAndDoublesThem) {
  EXPECT_EQ(quote("contoso.com"), "'contoso.com'");
  EXPECT_EQ(quote("o'brien.com"), "'o''brien.com'");
  EXPECT_EQ(quote("''"), "''''''");
  // Nothing inside single quotes is expanded: $, backtick and " stay as they are.
  EXPECT_EQ(quote("$(Remove-Item x) `n \"y\""), "'$(Remove-Item x) `n \"y\"'");
  EXPECT_EQ(quote(""), "''");
}

TEST(M365PowerShell, DoublesTypographicQuotesThatEndAStringToo) {
  // PowerShell ends a single-quoted string at U+2018..U+201B as well.
  EXPECT_EQ(quote("a\u2019; Remove-Item x; \u2018"),
            "'a\u2019\u2019; Remove-Item x; \u2018\u2018'");
  EXPECT_EQ(quote("\u201A\u201B"), "'\u201A\u201A\u201B\u201B'");
  EXPECT_EQ(quote("M\u00fcller"), "'M\u00fcller'");  // other UTF-8 as it is
}

TEST(M365PowerShell, RefusesControlCharactersAndInvalidUtf8) {
  for (std::string bad :
       {std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3), std::string("a\tb"),
        std::string("a\x7f"), std::string("\xc2\x85"), std::string("\xe2\x80\xa8"),
        std::string("\xe2\x80\xae"), std::string("\xff"), std::string("\xc3")}) {
    EXPECT_FALSE(quote(bad)) << bh::printable(bad);
    EXPECT_NE(bh::m365::unquotable(bad), "");
  }
  EXPECT_EQ(bh::m365::unquotable("a\nb"), "holds a control character");
  EXPECT_EQ(bh::m365::unquotable("\xff"), "is not valid UTF-8");
}

TEST(M365PowerShell, QuotesLists) {
  EXPECT_EQ(bh::m365::quote_list({"a.com", "b'c.com"}), "'a.com','b''c.com'");
  EXPECT_FALSE(bh::m365::quote_list({"a.com", "b\nc"}));
}

TEST(M365PowerShell, CommentsWrapAndNeverBreakALine) {
  std::string text = bh::m365::comment({"one\nNew-Item evil", "", std::string(120, 'x') + " y"});
  EXPECT_EQ(text, "# one\\x0ANew-Item evil\n#\n# " + std::string(120, 'x') + "\n# y\n");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "word ";
  std::string wrapped = bh::m365::comment({long_text});
  for (std::size_t start = 0; start < wrapped.size();) {
    std::size_t end = wrapped.find('\n', start);
    EXPECT_LE(end - start, 100u);
    EXPECT_EQ(wrapped.substr(start, 2), "# ");
    start = end + 1;
  }
}

TEST(M365PowerShell, RendersACommandWithBacktickContinuations) {
  bh::m365::Command c{{"Why."}, "New-Thing", {{"Name", "'x'"}, {"Flag", "$true"}}};
  EXPECT_EQ(bh::m365::render(c), "# Why.\nNew-Thing `\n  -Name 'x' `\n  -Flag $true\n");
}

TEST(M365Topology, NamesBothWays) {
  using bh::m365::Topology;
  for (auto t : {Topology::davor, Topology::daneben1, Topology::daneben2, Topology::service})
    EXPECT_EQ(bh::m365::topology_from(bh::m365::topology_name(t)), t);
  EXPECT_FALSE(bh::m365::topology_from("Davor"));
  EXPECT_FALSE(bh::m365::topology_from("daneben"));
}

TEST(M365CertificateNames, ReadsCommonNameAndDnsNames) {
  bh::m365::testing::TestPki pki;
  auto names = bh::m365::read_certificate_names(
      pki.leaf("a", "bridgehead.contoso.com", {"contoso.com", "*.contoso.com"}, true));
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(names->common_name, "bridgehead.contoso.com");
  EXPECT_EQ(names->dns_names, (std::vector<std::string>{"contoso.com", "*.contoso.com"}));
  EXPECT_TRUE(names->self_signed);
  auto issued = bh::m365::read_certificate_names(pki.leaf("b", "x.contoso.com", {}));
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_FALSE(issued->self_signed);
  EXPECT_TRUE(issued->dns_names.empty());
}

TEST(M365CertificateNames, WithoutCommonName) {
  bh::m365::testing::TestPki pki;
  auto names = bh::m365::read_certificate_names(pki.leaf("a", "", {"only.example.com"}));
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(names->common_name, "");
  EXPECT_EQ(names->dns_names, std::vector<std::string>{"only.example.com"});
}

TEST(M365CertificateNames, MissingOrNotPemIsAnError) {
  auto missing = bh::m365::read_certificate_names("/nonexistent/cert.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "\"/nonexistent/cert.pem\": cannot open: No such file or directory");
  std::string path = std::filesystem::temp_directory_path() /
                     ("bh-m365-notpem-" + std::to_string(getpid()) + ".pem");
  FILE* file = std::fopen(path.c_str(), "w");
  std::fputs("not a certificate\n", file);
  std::fclose(file);
  auto garbage = bh::m365::read_certificate_names(path);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("no PEM certificate"), std::string::npos);
  std::filesystem::remove(path);
}
