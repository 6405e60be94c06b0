#include <gtest/gtest.h>

#include <algorithm>

#include "directory/users_csv.hpp"
#include "mail/header_block.hpp"

using namespace bh;

TEST(DirectoryCsv, ParsesUsersAndNamesBadLines) {
  auto users = directory::parse_users_csv(
      "address,tenant,permissions\r\n"
      "Alice@Contoso.test,4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B,fax;sms\n"
      "# a comment\n"
      "bob@contoso.test,4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b,\n",
      "users.csv");
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ(users->at(0).address, "alice@contoso.test");
  EXPECT_EQ(users->at(0).tenant, "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b");
  EXPECT_TRUE(users->at(0).may("sms"));
  EXPECT_FALSE(users->at(1).may("fax"));

  auto bad =
      directory::parse_users_csv("address,tenant,permissions\nnot an address,x,fax\n", "users.csv");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "users.csv:2: 'not an address' is not a mail address");
  EXPECT_FALSE(directory::parse_users_csv("a,b\n", "u.csv"));
}

TEST(HeaderBlock, FieldsWithFoldingAndFromAddress) {
  std::string content =
      "From: \"Doe, John\" <john@contoso.test>\r\nSubject: a\r\n\tfolded\r\nX-A : b\r\n\r\nbody: "
      "no\r\n";
  HeaderBlock block(content);
  ASSERT_EQ(block.fields().size(), 3u);
  EXPECT_EQ(HeaderBlock::unfolded(block.all("subject").at(0)->value), "a folded");
  EXPECT_EQ(block.all("X-A").size(), 1u);
  EXPECT_EQ(address_in_header(block.all("From").at(0)->value), "john@contoso.test");
  EXPECT_EQ(address_in_header("a@x.test, b@y.test"), "");
  EXPECT_EQ(address_in_header(" plain@x.test (comment)"), "plain@x.test");
}

// ---- Directory import that spreadsheets can feed (issue 12 item 8).

namespace {
constexpr const char* kTenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
const std::string kHeader = "address,tenant,permissions\r\n";

std::string row(const std::string& address, const std::string& permissions = "fax") {
  return address + "," + kTenant + "," + permissions + "\r\n";
}

std::string csv_error(const std::string& text, directory::CsvOptions options = {}) {
  auto users = directory::parse_users_csv(text, "users.csv", options);
  return users ? "(accepted)" : users.error().message;
}
}  // namespace

TEST(DirectoryCsv, EmptyFileIsRefusedUnlessAllowed) {
  EXPECT_EQ(csv_error(""),
            "users.csv: no header and no users; importing it would remove every user "
            "(--allow-empty does that)");
  EXPECT_EQ(csv_error(kHeader),
            "users.csv: no users after the header; importing it would remove every user "
            "(--allow-empty does that)");
  EXPECT_EQ(csv_error(kHeader + "# nobody yet\r\n\r\n,,\r\n"),
            "users.csv: no users after the header; importing it would remove every user "
            "(--allow-empty does that)");
  EXPECT_EQ(csv_error("\xEF\xBB\xBF"),
            "users.csv: no header and no users; importing it would remove every user "
            "(--allow-empty does that)");
  for (const std::string& text : {std::string(), kHeader}) {
    auto users = directory::parse_users_csv(text, "users.csv", {.allow_empty = true});
    ASSERT_TRUE(users) << users.error().message;
    EXPECT_TRUE(users->empty());
  }
}

TEST(DirectoryCsv, Utf8ByteOrderMarkIsAccepted) {
  auto users = directory::parse_users_csv("\xEF\xBB\xBF" + kHeader + row("a@x.test"), "users.csv");
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ(users->at(0).address, "a@x.test");
}

TEST(DirectoryCsv, QuotedFieldsAsExcelWritesThem) {
  // Excel quotes every field with a comma or a quote in it, and doubles quotes.
  auto users = directory::parse_users_csv(
      kHeader + "\"Alice@X.test\",\"" + kTenant + "\",\"fax;sms\"\r\n" + "\"\"\"a,b\"\"@x.test\"," +
          kTenant + ",\"\"\r\n" + "  c@x.test  , " + kTenant + " , fax ; sms \r\n",
      "users.csv");
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ(users->at(0).address, "alice@x.test");
  EXPECT_EQ(users->at(0).permissions, (std::vector<std::string>{"fax", "sms"}));
  EXPECT_EQ(users->at(1).address, "\"a,b\"@x.test");
  EXPECT_TRUE(users->at(1).permissions.empty());
  EXPECT_EQ(users->at(2).address, "c@x.test");
  EXPECT_EQ(users->at(2).permissions, (std::vector<std::string>{"fax", "sms"}));
}

TEST(DirectoryCsv, LineBreaksInsideQuotesBelongToTheField) {
  // The quoted field spans lines 2-3; the short row after it is on line 4.
  EXPECT_EQ(csv_error(kHeader + "a@x.test," + kTenant + ",\"fax;\r\nsms\"\r\n" + "b@x.test," +
                      kTenant + "\r\n"),
            "users.csv:2: '\\x0D\\x0Asms' is not a service name (lower-case letters, digits, '-' "
            "and '_', 1 to 32 characters; several are separated by ';')\n"
            "users.csv:4: expected 3 fields (address,tenant,permissions), found 2");
  // A quoted line break with LF only, and rows after it keep their numbers.
  auto users = directory::read_users_csv(
      kHeader + "\"a@x.test\"," + kTenant + ",\"\n\"\n" + row("b@x.test"), "users.csv");
  ASSERT_FALSE(users);  // "\n" is no service name
  EXPECT_EQ(users.error().message,
            "users.csv:2: '\\x0A' is not a service name (lower-case letters, digits, '-' and "
            "'_', 1 to 32 characters; several are separated by ';')");
  auto good = directory::read_users_csv(
      kHeader + row("a@x.test") + "\"b@x.test\"," + kTenant + ",\"fax\"\n\n" + row("c@x.test"),
      "users.csv");
  ASSERT_TRUE(good) << good.error().message;
  ASSERT_EQ(good->size(), 3u);
  EXPECT_EQ(good->at(0).line, 2u);
  EXPECT_EQ(good->at(1).line, 3u);
  EXPECT_EQ(good->at(2).line, 5u);
}

TEST(DirectoryCsv, MalformedQuotesAreRefused) {
  EXPECT_EQ(csv_error(kHeader + row("a@x.test") + "\"b@x.test," + kTenant + ",fax\r\n"),
            "users.csv:3: a quoted field is not closed (a '\"' is missing)");
  EXPECT_EQ(csv_error(kHeader + "\"a@x.test\"x," + kTenant + ",fax\r\n"),
            "users.csv:2: text after a quoted field's closing '\"' (write a quote inside one as "
            "\"\")");
  EXPECT_EQ(csv_error(kHeader + "a\"b@x.test," + kTenant + ",fax\r\n"),
            "users.csv:2: '\"' inside a field that does not start with one (quote the whole "
            "field and write the quote as \"\")");
}

TEST(DirectoryCsv, ShortAndLongRowsAreRefusedWithTheirLines) {
  EXPECT_EQ(csv_error(kHeader + row("a@x.test") + "b@x.test," + kTenant + "\r\n" + "c@x.test\r\n" +
                      row("d@x.test", "fax,extra")),
            "users.csv:3: expected 3 fields (address,tenant,permissions), found 2\n"
            "users.csv:4: expected 3 fields (address,tenant,permissions), found 1\n"
            "users.csv:5: expected 3 fields (address,tenant,permissions), found 4");
}

TEST(DirectoryCsv, DuplicateAddressesNameBothLines) {
  EXPECT_EQ(csv_error(kHeader + row("a@x.test") + row("b@x.test") + "# comment\r\n" +
                      row("A@X.TEST", "sms")),
            "users.csv:5: 'a@x.test' is also on line 2: one row per address");
}

TEST(DirectoryCsv, PermissionsMustBeServiceNames) {
  for (const char* bad :
       {"fax machine", "fax/sms", "fäx", "\"fax\"\"\"", "x23456789012345678901234567890123"})
    EXPECT_NE(csv_error(kHeader + row("a@x.test", bad)).find("is not a service name"),
              std::string::npos)
        << bad;
  EXPECT_EQ(csv_error(kHeader + row("a@x.test", "fax machine")),
            "users.csv:2: 'fax machine' is not a service name (lower-case letters, digits, '-' "
            "and '_', 1 to 32 characters; several are separated by ';')");
  // Case is folded (as for routes' service); empty entries and repeats drop out.
  auto users = directory::parse_users_csv(
      kHeader + row("a@x.test", "FAX;;sms-2;fax;x_1;x2345678901234567890123456789012"), "u.csv");
  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(users->at(0).permissions,
            (std::vector<std::string>{"fax", "sms-2", "x2345678901234567890123456789012", "x_1"}));
}

TEST(DirectoryCsv, ErrorMessagesEscapeControlBytes) {
  std::string message = csv_error(kHeader + "\x1B]0;owned\x07@x.test," + kTenant + ",fax\r\n" +
                                  "b@x.test,\x1B[2J\xFF,fax\r\n");
  EXPECT_EQ(message,
            "users.csv:2: '\\x1B]0;owned\\x07@x.test' is not a mail address\n"
            "users.csv:3: '\\x1B[2J\\xFF' is not a tenant id (GUID)");
  auto named = directory::parse_users_csv("",
                                          "bad\x1B"
                                          "name.csv");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().message.find('\x1B'), std::string::npos) << named.error().message;
  EXPECT_EQ(named.error().message.rfind("bad\\x1Bname.csv: ", 0), 0u) << named.error().message;
}

TEST(DirectoryCsv, HeaderIsCheckedWithAHintForSemicolons) {
  EXPECT_EQ(csv_error("Address, Tenant ,PERMISSIONS\r\n" + row("a@x.test")), "(accepted)");
  EXPECT_EQ(
      csv_error("address;tenant;permissions\r\na@x.test;" + std::string(kTenant) + ";fax\r\n"),
      "users.csv:1: unknown column 'address;tenant;permissions' (the columns are "
      "address,tenant,permissions and optionally display_name,aliases,fax_numbers,"
      "mobile_numbers,send_as) (the file is separated by ';': save it as \"CSV UTF-8 (comma "
      "delimited)\")");
  EXPECT_EQ(csv_error("# users\r\nmail,tenant,permissions\r\n"),
            "users.csv:2: unknown column 'mail' (the columns are address,tenant,permissions and "
            "optionally display_name,aliases,fax_numbers,mobile_numbers,send_as)");
  EXPECT_EQ(csv_error("address,permissions\r\n"),
            "users.csv:1: the column 'tenant' is missing (the columns are "
            "address,tenant,permissions and optionally display_name,aliases,fax_numbers,"
            "mobile_numbers,send_as)");
  EXPECT_EQ(csv_error("address,tenant,permissions,Aliases,aliases\r\n"),
            "users.csv:1: column 'aliases' is named twice");
}

TEST(DirectoryCsv, EveryBadRowIsReportedUpToALimit) {
  std::string text = kHeader;
  for (int i = 0; i < 30; ++i) text += "x" + std::to_string(i) + "," + kTenant + ",fax\r\n";
  std::string message = csv_error(text);
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 20) << message;
  EXPECT_NE(message.find("users.csv:21: 'x19' is not a mail address"), std::string::npos);
  EXPECT_NE(message.find("(stopped after 20 errors)"), std::string::npos);
}

TEST(DirectoryCsv, WarnsAboutPermissionsNoRouteUses) {
  auto users = directory::read_users_csv(
      kHeader + row("a@x.test", "fax;sms") + row("b@x.test", "sms") + row("c@x.test", "fax;pager"),
      "users.csv");
  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(directory::unused_permission_warnings(*users, {"fax"}, "users.csv"),
            (std::vector<std::string>{
                "users.csv: warning: permission 'pager' (line 4) is the service of no route; it "
                "has no effect",
                "users.csv: warning: permission 'sms' (lines 2, 3) is the service of no route; it "
                "has no effect"}));
  EXPECT_TRUE(directory::unused_permission_warnings(*users, {"fax", "sms", "pager"}, "u").empty());
}
