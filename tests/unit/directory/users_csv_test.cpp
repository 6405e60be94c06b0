// The directory's CSV files with the full model (directory/users_csv.hpp,
// numbers_csv.hpp, csv.hpp): optional columns, numbers to E.164, the
// writer's quoting, and export -> import -> export giving the same bytes.
// The three-column files of before are tests/unit/directory_test.cpp.
#include <gtest/gtest.h>

#include "directory/csv.hpp"
#include "directory/numbers_csv.hpp"
#include "directory/users_csv.hpp"

namespace bh::directory {
namespace {

constexpr const char* kTenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";

std::string error_of(const std::string& text, CsvOptions options = {}) {
  auto users = read_users_csv(text, "users.csv", options);
  return users ? "(accepted)" : users.error().message;
}

TEST(UsersCsv, OptionalColumnsInAnyOrderWithNumbersInE164) {
  auto users = read_users_csv(
      std::string("fax_numbers,Address,display_name,tenant,aliases,permissions,mobile_numbers,"
                  "send_as\r\n") +
          "\"+49 30 1234567; 030 7654321\",Alice@Contoso.test,\"Smith, Alice\"," + kTenant +
          ",A@contoso.test;alice.smith@contoso.test,sms;fax,0151 23456789,shared@contoso.test\r\n",
      "users.csv", {.default_region = "DE"});
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  const User& u = users->at(0).user;
  EXPECT_EQ(u.address, "alice@contoso.test");
  EXPECT_EQ(u.display_name, "Smith, Alice");
  EXPECT_EQ(u.aliases, (std::vector<std::string>{"a@contoso.test", "alice.smith@contoso.test"}));
  EXPECT_EQ(u.fax_numbers, (std::vector<std::string>{"+49301234567", "+49307654321"}));
  EXPECT_EQ(u.mobile_numbers, std::vector<std::string>{"+4915123456789"});
  EXPECT_EQ(u.permissions, (std::vector<std::string>{"fax", "sms"}));
  EXPECT_EQ(u.send_as, std::vector<std::string>{"shared@contoso.test"});
}

TEST(UsersCsv, BadNumbersAndAliasesAreErrorsWithLineAndColumn) {
  std::string header = "address,tenant,permissions,fax_numbers,aliases\r\n";
  std::string message = error_of(header + "a@x.test," + kTenant + ",fax,not a number,\r\n" +
                                 "b@x.test," + kTenant + ",fax,+4930123456,no-at-sign\r\n");
  EXPECT_TRUE(message.starts_with("users.csv:2: fax_numbers: 'not a number' is not a phone number"))
      << message;
  EXPECT_TRUE(message.ends_with("\nusers.csv:3: aliases: 'no-at-sign' is not a mail address"))
      << message;
  // A national number needs [directory] default_region.
  std::string national = header + "a@x.test," + kTenant + ",fax,030 1234567,\r\n";
  EXPECT_NE(error_of(national).find("users.csv:2: fax_numbers:"), std::string::npos);
  EXPECT_EQ(error_of(national, {.default_region = "DE"}), "(accepted)");
}

TEST(UsersCsv, RowsMustHaveTheHeadersFieldCount) {
  EXPECT_EQ(error_of(std::string("address,tenant,permissions,display_name\r\n") + "a@x.test," +
                     kTenant + ",fax\r\n"),
            "users.csv:2: expected 4 fields (address,tenant,permissions,display_name), found 3");
}

TEST(CsvWriter, QuotesWhatTheReaderWouldOtherwiseChange) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(csv_field(" padded "), "\" padded \"");
  EXPECT_EQ(csv_field("#hash@x.test"), "\"#hash@x.test\"");
  // No formula guard: "=1+1" is written as it is, so it reads back the same.
  EXPECT_EQ(csv_field("=1+1"), "=1+1");
  EXPECT_EQ(csv_record({"a", "b,c", ""}), "a,\"b,c\",\r\n");
}

TEST(UsersCsv, ExportImportExportIsIdentical) {
  std::vector<User> users = {
      {"\"a,b\"@x.test", kTenant, " Quoted, \"Name\" ", {}, {}, {}, {}, {}},
      {"#first@x.test",
       kTenant,
       "Smith; Bob",
       {"alias@x.test"},
       {"+4930123456"},
       {"+4915123456789"},
       {"fax", "sms"},
       {"shared@x.test"}},
      {"plain@x.test", kTenant, "", {}, {}, {}, {}, {}},
  };
  std::string first = write_users_csv(users);
  auto read = read_users_csv(first, "export.csv");
  ASSERT_TRUE(read) << read.error().message;
  std::vector<User> again;
  for (auto& row : *read) again.push_back(row.user);
  ASSERT_EQ(again.size(), users.size());
  EXPECT_EQ(again[0].display_name, " Quoted, \"Name\" ");
  EXPECT_EQ(again[1].display_name, "Smith; Bob");  // one value: not split at ';'
  EXPECT_EQ(write_users_csv(again), first);
}

TEST(NumbersCsv, ReadsNormalisesAndRoundTrips) {
  auto numbers = read_numbers_csv(std::string("number,tenant,mailbox,service,description\r\n") +
                                      "\"+49 30 555 1000\"," + kTenant +
                                      ",Fax@Contoso.test,FAX,\"Fax line, 3rd floor\"\r\n" +
                                      "+1 202 555 0143," + kTenant + ",sms@contoso.test,,\r\n",
                                  "numbers.csv");
  ASSERT_TRUE(numbers) << numbers.error().message;
  ASSERT_EQ(numbers->size(), 2u);
  const ServiceNumber& fax = numbers->at(0).number;
  EXPECT_EQ(fax.number, "+49305551000");
  EXPECT_EQ(fax.mailbox, "fax@contoso.test");
  EXPECT_EQ(fax.service, "fax");
  EXPECT_EQ(fax.description, "Fax line, 3rd floor");
  EXPECT_EQ(numbers->at(1).number.service, "");
  std::vector<ServiceNumber> list;
  for (auto& row : *numbers) list.push_back(row.number);
  std::string first = write_numbers_csv(list);
  auto again = read_numbers_csv(first, "export.csv");
  ASSERT_TRUE(again) << again.error().message;
  std::vector<ServiceNumber> list2;
  for (auto& row : *again) list2.push_back(row.number);
  EXPECT_EQ(write_numbers_csv(list2), first);
}

TEST(NumbersCsv, ErrorsNameLineAndColumn) {
  std::string header = "number,tenant,mailbox\r\n";
  auto bad = read_numbers_csv(header + "12ab," + kTenant + ",fax@x.test\r\n" + "+4930555100," +
                                  kTenant + ",not-an-address\r\n" + "+49 30 555100," + kTenant +
                                  ",fax@x.test\r\n" + "+4930555100," + kTenant + ",b@x.test\r\n",
                              "numbers.csv");
  ASSERT_FALSE(bad);
  const std::string& m = bad.error().message;
  EXPECT_NE(m.find("numbers.csv:2: number:"), std::string::npos) << m;
  EXPECT_NE(m.find("numbers.csv:3: mailbox:"), std::string::npos) << m;
  EXPECT_NE(m.find("numbers.csv:5: '+4930555100' is also on line 4: one row per number"),
            std::string::npos)
      << m;
  auto unknown = read_numbers_csv("number,tenant,mailbox,owner\r\n", "numbers.csv");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("numbers.csv:1: unknown column 'owner'"),
            std::string::npos)
      << unknown.error().message;
  EXPECT_FALSE(read_numbers_csv(header, "numbers.csv"));  // would remove every number
  EXPECT_TRUE(read_numbers_csv(header, "numbers.csv", {.allow_empty = true}));
}

}  // namespace
}  // namespace bh::directory
