#include "render/html_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bh::render {
namespace {

TEST(RenderHtmlText, DropsScriptStyleAndHead) {
  EXPECT_EQ(html_to_text("<html><head><title>T</title><style>p{color:red}</style></head>"
                         "<body><script>alert('x')</script><p>Hello</p></body></html>"),
            "Hello");
}

TEST(RenderHtmlText, BlocksBecomeLineBreaks) {
  EXPECT_EQ(html_to_text("<p>One</p><p>Two</p>"), "One\n\nTwo");
  EXPECT_EQ(html_to_text("<div>A</div><div>B</div>"), "A\nB");
  EXPECT_EQ(html_to_text("a<br>b<br><br>c"), "a\nb\n\nc");
  EXPECT_EQ(html_to_text("<h1>Title</h1>Text"), "Title\n\nText");
  EXPECT_EQ(html_to_text("<blockquote>Quoted</blockquote>After"), "Quoted\n\nAfter");
}

TEST(RenderHtmlText, ListItemsGetADash) {
  EXPECT_EQ(html_to_text("<ul><li>one</li><li>two</li></ul>"), "- one\n- two");
}

TEST(RenderHtmlText, TableCellsAreSeparatedByTabs) {
  EXPECT_EQ(html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a\tb\nc");
}

TEST(RenderHtmlText, DecodesEntities) {
  EXPECT_EQ(html_to_text("Gr&uuml;&szlig;e &amp; &lt;tags&gt; &euro;5 &#228;&#x263A; &#150;"),
            "Grüße & <tags> €5 ä☺ –");
  EXPECT_EQ(html_to_text("a&nbsp;&nbsp;b"), "a\u00a0\u00a0b");
  EXPECT_EQ(html_to_text("&unknown; &#xZZ; & alone"), "&unknown; &#xZZ; & alone");
  EXPECT_EQ(html_to_text("&#0; &#x110000; &#xD800;"), "\uFFFD \uFFFD \uFFFD");
  EXPECT_EQ(html_to_text("AT&T &amp"), "AT&T &");
}

TEST(RenderHtmlText, CollapsesWhitespaceLikeABrowser) {
  EXPECT_EQ(html_to_text("  Hello \n\t  world  "), "Hello world");
  EXPECT_EQ(html_to_text("<p>\n  x\n</p>\n\n<p>  y</p>"), "x\n\ny");
  EXPECT_EQ(html_to_text("<b>bold</b> <i>it</i>"), "bold it");
}

TEST(RenderHtmlText, KeepsPreformattedText) {
  EXPECT_EQ(html_to_text("<pre>a  b\n  c</pre>d"), "a  b\n  c\n\nd");
}

TEST(RenderHtmlText, KeepsLinkTargetsWhenTheTextIsNotTheUrl) {
  EXPECT_EQ(html_to_text("<a href=\"https://example.com/x?a=1&amp;b=2\">the form</a>"),
            "the form <https://example.com/x?a=1&b=2>");
  EXPECT_EQ(html_to_text("<a href='https://example.com/'>https://example.com/</a>"),
            "https://example.com/");
  EXPECT_EQ(html_to_text("<a href=https://example.com/>example.com</a>"), "example.com");
  EXPECT_EQ(html_to_text("<a href=\"mailto:bob@example.com\">bob@example.com</a>"),
            "bob@example.com");
  EXPECT_EQ(html_to_text("<a href=\"#top\">top</a>"), "top");
  EXPECT_EQ(html_to_text("<a href=\"javascript:x()\">run</a>"), "run");
}

TEST(RenderHtmlText, SurvivesGarbage) {
  EXPECT_EQ(html_to_text("before <b unterminated"), "before");
  EXPECT_EQ(html_to_text("a <!-- never closed"), "a");
  EXPECT_EQ(html_to_text("x <script>never closed"), "x");
  EXPECT_EQ(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
  EXPECT_EQ(html_to_text("<p title=\"unterminated>text"), "");
  std::string huge = "<a href=\"" + std::string(1 << 20, 'x') + "\">link</a> end";
  EXPECT_EQ(html_to_text(huge), "link end");  // an absurd URL is not printed
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<div>";
  deep += "deep";
  EXPECT_EQ(html_to_text(deep), "deep");
  EXPECT_EQ(html_to_text("<<<>>>&&&;;;</></>"), "<<<>>>&&&;;;");
}

TEST(RenderHtmlText, TagNamesAreCaseInsensitive) {
  EXPECT_EQ(html_to_text("<P>a</P><SCRIPT>x</SCRIPT>b<BR>c"), "a\n\nb\nc");
}

}  // namespace
}  // namespace bh::render
