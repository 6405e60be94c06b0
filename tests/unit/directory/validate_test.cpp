#include "directory/validate.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace bh::directory;

namespace {

constexpr const char* kTenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";

std::string errors_text(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.field + ": " + e.message + "\n";
  return out;
}

User valid_user() {
  User user;
  user.address = "Alice@Contoso.TEST";
  user.tenant = "4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B";
  user.display_name = "Alice Müller";
  user.aliases = {"alice.mueller@contoso.test", "ALICE@contoso.test", "a@contoso.test",
                  "a@contoso.test"};
  user.fax_numbers = {"+49 30 1234567", "030 1234567"};
  user.mobile_numbers = {"+49 151 23456789"};
  user.permissions = {"SMS", "fax", "fax"};
  user.send_as = {"Shared@contoso.test"};
  return user;
}

// One broken field of an otherwise valid user: the field named, the message.
struct UserCase {
  const char* what;
  std::function<void(User&)> change;
  const char* field;
  const char* message;
};

const UserCase kUserCases[] = {
    {"no address", [](User& u) { u.address = ""; }, "users[2].address", "must not be empty"},
    {"bad address", [](User& u) { u.address = "alice"; }, "users[2].address",
     "'alice' is not a mail address"},
    {"address literal", [](User& u) { u.address = "a@[192.0.2.1]"; }, "users[2].address",
     "address literal"},
    {"trailing dot", [](User& u) { u.address = "a@contoso.test."; }, "users[2].address",
     "not a mail address"},
    {"bad tenant", [](User& u) { u.tenant = "contoso"; }, "users[2].tenant",
     "'contoso' is not a tenant id"},
    {"control in name", [](User& u) { u.display_name = "A\x1b[2J"; }, "users[2].display_name",
     "control characters"},
    {"bad UTF-8 name", [](User& u) { u.display_name = "A\xff"; }, "users[2].display_name",
     "not valid UTF-8"},
    {"long name", [](User& u) { u.display_name.assign(257, 'a'); }, "users[2].display_name",
     "longer than 256"},
    {"bad alias", [](User& u) { u.aliases[1] = "x y"; }, "users[2].aliases[1]",
     "'x y' is not a mail address"},
    {"too many aliases",
     [](User& u) { u.aliases.assign(DirectoryLimits::aliases + 1, "a@contoso.test"); },
     "users[2].aliases", "at most 200"},
    {"bad fax number", [](User& u) { u.fax_numbers[1] = "12"; }, "users[2].fax_numbers[1]",
     "'12' is not a valid number in DE"},
    {"bad mobile number", [](User& u) { u.mobile_numbers[0] = "+999 1"; },
     "users[2].mobile_numbers[0]", "unknown country code"},
    {"too many numbers",
     [](User& u) { u.mobile_numbers.assign(DirectoryLimits::numbers + 1, "+49301234567"); },
     "users[2].mobile_numbers", "at most 20"},
    {"bad permission", [](User& u) { u.permissions[2] = "fax machine"; }, "users[2].permissions[2]",
     "'fax machine' is not a service name"},
    {"bad send-as", [](User& u) { u.send_as = {"@contoso.test"}; }, "users[2].send_as[0]",
     "not a mail address"},
};

}  // namespace

TEST(DirectoryValidate, NormalisesAValidUser) {
  User user = valid_user();
  auto errors = normalise_user(user, "", {.default_region = "DE"});
  ASSERT_TRUE(errors.empty()) << errors_text(errors);
  EXPECT_EQ(user.address, "alice@contoso.test");
  EXPECT_EQ(user.tenant, kTenant);
  EXPECT_EQ(user.aliases,
            (std::vector<std::string>{"a@contoso.test", "alice.mueller@contoso.test"}));
  EXPECT_EQ(user.fax_numbers, (std::vector<std::string>{"+49301234567"}));
  EXPECT_EQ(user.mobile_numbers, (std::vector<std::string>{"+4915123456789"}));
  EXPECT_EQ(user.permissions, (std::vector<std::string>{"fax", "sms"}));
  EXPECT_EQ(user.send_as, (std::vector<std::string>{"shared@contoso.test"}));
}

TEST(DirectoryValidate, NamesEachBadUserField) {
  for (const UserCase& c : kUserCases) {
    User user = valid_user();
    c.change(user);
    auto errors = normalise_user(user, "users[2]", {.default_region = "DE"});
    ASSERT_EQ(errors.size(), 1u) << c.what << ":\n" << errors_text(errors);
    EXPECT_EQ(errors[0].field, c.field) << c.what;
    EXPECT_NE(errors[0].message.find(c.message), std::string::npos)
        << c.what << ": " << errors[0].message;
  }
}

TEST(DirectoryValidate, NationalNumbersNeedADefaultRegion) {
  User user = valid_user();
  auto errors = normalise_user(user, "", {});
  ASSERT_EQ(errors.size(), 1u) << errors_text(errors);
  EXPECT_EQ(errors[0].field, "fax_numbers[1]");
  EXPECT_NE(errors[0].message.find("no country code"), std::string::npos);
}

TEST(DirectoryValidate, CollectsEveryErrorOfATenant) {
  Tenant tenant{"not-a-guid",
                "Contoso\x07",
                {"contoso.test", "-bad.test", "[192.0.2.1]", "Fabrikam.TEST", "contoso.test"}};
  auto errors = normalise_tenant(tenant, "tenant");
  ASSERT_EQ(errors.size(), 4u) << errors_text(errors);
  EXPECT_EQ(errors[0].field, "tenant.id");
  EXPECT_EQ(errors[1].field, "tenant.name");
  EXPECT_EQ(errors[2].field, "tenant.domains[1]");
  EXPECT_EQ(errors[3].field, "tenant.domains[2]");
  Tenant good{"4A1C1A0E-2D3B-4F5E-8A9B-0C1D2E3F4A5B", "Contoso", {"Contoso.test", "contoso.test"}};
  ASSERT_TRUE(normalise_tenant(good, "").empty());
  EXPECT_EQ(good.id, kTenant);
  EXPECT_EQ(good.domains, (std::vector<std::string>{"contoso.test"}));
}

TEST(DirectoryValidate, ServiceNumbers) {
  ServiceNumber number{"+49 30 7654321", kTenant, "Fax@Contoso.test", "FAX", "Front desk"};
  ASSERT_TRUE(normalise_number(number, "numbers[0]", {}).empty());
  EXPECT_EQ(number.number, "+49307654321");
  EXPECT_EQ(number.mailbox, "fax@contoso.test");
  EXPECT_EQ(number.service, "fax");
  ServiceNumber bad{"x", "", "nobody", "fax line", ""};
  auto errors = normalise_number(bad, "numbers[0]", {});
  ASSERT_EQ(errors.size(), 4u) << errors_text(errors);
  EXPECT_EQ(errors[0].field, "numbers[0].number");
  EXPECT_EQ(errors[1].field, "numbers[0].tenant");
  EXPECT_EQ(errors[2].field, "numbers[0].mailbox");
  EXPECT_EQ(errors[3].field, "numbers[0].service");
}

TEST(DirectoryValidate, DirectoryChecksAcrossObjects) {
  TenantDirectory directory;
  directory.tenant = {kTenant, "Contoso", {"contoso.test"}};
  User alice = valid_user();
  alice.tenant = "";  // adopted from the directory
  User bob;
  bob.address = "bob@contoso.test";
  bob.aliases = {"A@contoso.test"};         // alice's alias
  bob.fax_numbers = {"+49 30 1234567"};     // alice's number
  bob.mobile_numbers = {"+49 30 1234568"};  // a service number's
  User other;
  other.address = "carol@fabrikam.test";  // not a domain of the tenant
  other.tenant = "11111111-2222-3333-4444-555555555555";
  directory.users = {alice, bob, other};
  directory.numbers = {{"+49 30 1234568", "", "bob@contoso.test", "", ""},
                       {"+49 30 1234569", "", "nobody@contoso.test", "fax", ""}};
  auto errors = normalise_directory(directory, {.default_region = "DE"});
  std::string text = errors_text(errors);
  EXPECT_EQ(errors.size(), 6u) << text;
  EXPECT_NE(text.find("users[2].tenant: '11111111-2222-3333-4444-555555555555' is another tenant"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("users[1].aliases[0]: 'a@contoso.test' is also users[0].aliases[0]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("users[1].fax_numbers[0]: '+49301234567' is also users[0].fax_numbers[0]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("users[2].address: 'carol@fabrikam.test' is not in a domain of the tenant"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("numbers[0].number: '+49301234568' is also users[1].mobile_numbers[0]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("numbers[1].mailbox: 'nobody@contoso.test' is neither"), std::string::npos)
      << text;
  EXPECT_EQ(directory.users[0].tenant, kTenant);
  EXPECT_EQ(directory.numbers[1].tenant, kTenant);
}

TEST(DirectoryValidate, AValidDirectory) {
  TenantDirectory directory;
  directory.tenant = {kTenant, "Contoso", {"contoso.test"}};
  User alice = valid_user();
  User shared;
  shared.address = "shared@contoso.test";
  directory.users = {alice, shared};
  directory.numbers = {{"+49 30 7654321", "", "Shared@contoso.test", "fax", "Front desk"}};
  auto errors = normalise_directory(directory, {.default_region = "DE"});
  EXPECT_TRUE(errors.empty()) << errors_text(errors);
}

TEST(DirectoryValidate, ErrorsAreBounded) {
  TenantDirectory directory;
  directory.tenant = {kTenant, "", {"contoso.test"}};
  for (int i = 0; i < 300; ++i) {
    User user;
    user.address = "bad address " + std::to_string(i);
    directory.users.push_back(user);
  }
  auto errors = normalise_directory(directory, {});
  ASSERT_EQ(errors.size(), DirectoryLimits::errors + 1);
  EXPECT_NE(errors.back().message.find("more errors"), std::string::npos);
}
