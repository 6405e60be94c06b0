#include "admin/json_fields.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "admin/directory_json.hpp"

namespace bh::admin {
namespace {

std::vector<std::string> fields_of(const std::vector<FieldProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.field + ": " + p.message);
  return out;
}

TEST(AdminJsonFields, BadJsonNamesLineAndColumn) {
  auto parsed = parse_json("{\n  \"a\": 1,\n  \"b\": ]\n}");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("line 3, column 8"), std::string::npos)
      << parsed.error().message;
  EXPECT_FALSE(parse_json(""));
  EXPECT_FALSE(parse_json("{} {}"));     // extra data
  EXPECT_FALSE(parse_json("\"\xff\""));  // not UTF-8
  std::string deep(40, '[');
  EXPECT_FALSE(parse_json(deep + std::string(40, ']')));
  EXPECT_TRUE(parse_json(" {\"x\": [1, 2]} "));
}

TEST(AdminJsonFields, ReportsEveryProblemWithItsPath) {
  auto value = parse_json(R"({
    "tenant": {"name": 5, "colour": "red"},
    "users": [
      {"address": "a@x.test"},
      {"address": "b@x.test", "fax_numbers": ["+4930123456", 7]},
      {"fax": "+4930123456"},
      "not an object"
    ],
    "numbers": {},
    "extra": null
  })");
  ASSERT_TRUE(value);
  std::vector<FieldProblem> problems;
  directory::TenantDirectory directory;
  {
    FieldReader r(*value, "", problems);
    read_directory(r, directory);
  }
  EXPECT_EQ(fields_of(problems), (std::vector<std::string>{
                                     "tenant.name: must be a string, not a number",
                                     "tenant.colour: unknown field",
                                     "users[1].fax_numbers[1]: must be a string, not a number",
                                     "users[2].address: is required",
                                     "users[2].fax: unknown field",
                                     "users[3]: must be an object, not a string",
                                     "numbers: must be an array of objects, not an object",
                                     "extra: unknown field",
                                 }));
  ASSERT_EQ(directory.users.size(), 3u);
  EXPECT_EQ(directory.users[1].fax_numbers, std::vector<std::string>{"+4930123456"});
}

TEST(AdminJsonFields, MissingRequiredObject) {
  auto value = parse_json(R"({"users": []})");
  ASSERT_TRUE(value);
  std::vector<FieldProblem> problems;
  directory::TenantDirectory directory;
  {
    FieldReader r(*value, "", problems);
    read_directory(r, directory);
  }
  EXPECT_EQ(fields_of(problems), std::vector<std::string>{"tenant: is required"});
}

TEST(AdminJsonFields, BodyThatIsNoObject) {
  auto value = parse_json("[1]");
  ASSERT_TRUE(value);
  std::vector<FieldProblem> problems;
  {
    FieldReader r(*value, "", problems);
    EXPECT_FALSE(r.is_object());
    std::string ignored;
    r.text("x", ignored, true);  // nothing more is reported
  }
  EXPECT_EQ(fields_of(problems),
            std::vector<std::string>{"(body): must be an object, not an array"});
}

TEST(AdminJsonFields, RoundTripOfAUser) {
  directory::User user;
  user.address = "a@x.test";
  user.tenant = "11111111-2222-3333-4444-555555555555";
  user.aliases = {"b@x.test"};
  user.permissions = {"fax"};
  std::string text = boost::json::serialize(to_json(user));
  auto value = parse_json(text);
  ASSERT_TRUE(value);
  std::vector<FieldProblem> problems;
  directory::User back;
  {
    FieldReader r(*value, "", problems);
    read_user(r, back, true);
  }
  EXPECT_TRUE(problems.empty()) << fields_of(problems).front();
  EXPECT_EQ(back.address, user.address);
  EXPECT_EQ(back.tenant, user.tenant);
  EXPECT_EQ(back.aliases, user.aliases);
  EXPECT_EQ(back.permissions, user.permissions);
}

TEST(AdminJsonFields, Paths) {
  EXPECT_EQ(field_path("", "name"), "name");
  EXPECT_EQ(field_path("users[2]", "fax_numbers"), "users[2].fax_numbers");
  EXPECT_EQ(field_path("users", 2), "users[2]");
}

}  // namespace
}  // namespace bh::admin
