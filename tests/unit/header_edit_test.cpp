// Issue 8.4: header edits of transport rules (mail/header_edit.hpp,
// apply_header_edits).
#include <gtest/gtest.h>

#include "mail/header_edit.hpp"

using namespace bh;

namespace {

struct Applied {
  std::string content;
  std::size_t header_size;
};

Applied apply(std::string content, std::size_t header_size, std::vector<HeaderEdit> edits) {
  Status status = apply_header_edits(content, header_size, edits);
  EXPECT_TRUE(status) << status.error().message;
  return {content, header_size};
}

HeaderEdit added(std::string name, std::string value) {
  return {HeaderEdit::Kind::add, std::move(name), std::move(value)};
}
HeaderEdit replaced(std::string name, std::string value) {
  return {HeaderEdit::Kind::set, std::move(name), std::move(value)};
}
HeaderEdit drop(std::string name) {
  return {HeaderEdit::Kind::remove, std::move(name), ""};
}

}  // namespace

TEST(HeaderEdit, AddGoesBeforeTheEmptyLineAndHeaderSizeStaysExact) {
  std::string message = "A: 1\r\nB: 2\r\n\r\nbody\r\n";
  Applied a = apply(message, 14, {added("X-New", "v"), added("X-Empty", "")});
  EXPECT_EQ(a.content, "A: 1\r\nB: 2\r\nX-New: v\r\nX-Empty:\r\n\r\nbody\r\n");
  EXPECT_EQ(a.content.substr(a.header_size), "body\r\n");
}

TEST(HeaderEdit, HeaderOnlyMessagesWithAndWithoutFinalCrlf) {
  Applied a = apply("A: 1\r\n", 6, {added("X", "y")});
  EXPECT_EQ(a.content, "A: 1\r\nX: y\r\n");
  EXPECT_EQ(a.header_size, a.content.size());
  Applied b = apply("A: 1", 4, {added("X", "y")});  // BDAT: the last line may end without CRLF
  EXPECT_EQ(b.content, "A: 1\r\nX: y\r\n");
  EXPECT_EQ(b.header_size, b.content.size());
  Applied c = apply("\r\nbody", 2, {added("X", "y")});  // no fields, only the empty line
  EXPECT_EQ(c.content, "X: y\r\n\r\nbody");
  EXPECT_EQ(c.content.substr(c.header_size), "body");
  Applied d = apply("", 0, {added("X", "y")});
  EXPECT_EQ(d.content, "X: y\r\n");
  EXPECT_EQ(d.header_size, 6u);
}

TEST(HeaderEdit, SetReplacesTheFirstInPlaceAndRemovesTheOthers) {
  std::string message = "A: 1\r\nx-tag: old\r\n folded\r\nB: 2\r\nX-Tag: again\r\n\r\nbody";
  std::size_t header = message.find("body");
  Applied a = apply(message, header, {replaced("X-Tag", "new")});
  EXPECT_EQ(a.content, "A: 1\r\nX-Tag: new\r\nB: 2\r\n\r\nbody");
  EXPECT_EQ(a.content.substr(a.header_size), "body");
  Applied b = apply(message, header, {replaced("X-Absent", "v")});
  EXPECT_EQ(b.content,
            "A: 1\r\nx-tag: old\r\n folded\r\nB: 2\r\nX-Tag: again\r\nX-Absent: v\r\n\r\nbody");
}

TEST(HeaderEdit, RemoveTakesEveryFieldOfTheNameAndOnlyFromTheHeader) {
  // The body (or the part of it still in memory) is never read as header.
  std::string message = "A: 1\r\nX-Drop: a\r\n b\r\nx-drop: c\r\n\r\nX-Drop: body line\r\n";
  std::size_t header = message.find("X-Drop: body");
  Applied a = apply(message, header, {drop("X-DROP")});
  EXPECT_EQ(a.content, "A: 1\r\n\r\nX-Drop: body line\r\n");
  EXPECT_EQ(a.header_size, 8u);
  Applied b = apply("A: 1\r\n\r\n", 8, {drop("A")});
  EXPECT_EQ(b.content, "\r\n");
  EXPECT_EQ(b.header_size, 2u);
}

TEST(HeaderEdit, EditsApplyInOrder) {
  Applied a =
      apply("A: 1\r\n\r\n", 8, {added("X", "1"), drop("x"), added("X", "2"), replaced("A", "3")});
  EXPECT_EQ(a.content, "A: 3\r\nX: 2\r\n\r\n");
}

TEST(HeaderEdit, BadEditsChangeNothing) {
  for (const HeaderEdit& bad :
       {added("X", "a\r\nBcc: evil@example.com"), added("X", "a\nb"),
        added("X", std::string("a\0b", 3)), added("X:Y", "v"), added("", "v"), replaced("X Y", "v"),
        drop("X\r\n"), added("X", std::string(kMaxHeaderLine - 2, 'v'))}) {
    std::string content = "A: 1\r\n\r\nbody";
    std::size_t header = 8;
    Status status = apply_header_edits(content, header, {added("Ok", "1"), bad});
    EXPECT_FALSE(status) << bad.name;
    EXPECT_EQ(content, "A: 1\r\n\r\nbody");
    EXPECT_EQ(header, 8u);
  }
  EXPECT_EQ(header_edit_problem("X", std::string(kMaxHeaderLine - 3, 'v')), "");
}
