#include "mail/queue_id.hpp"

#include <gtest/gtest.h>

namespace {

// Two nodes of one store tag their ids differently, so the same microsecond
// and counter on both still give two ids; the tag is the node's, stable.
TEST(QueueId, CarriesTheNodeTag) {
  bh::set_queue_id_node("mx1.example.test");
  std::string tag1 = bh::queue_id_node_tag();
  std::string a = bh::make_queue_id();
  bh::set_queue_id_node("mx2.example.test");
  std::string tag2 = bh::queue_id_node_tag();
  std::string b = bh::make_queue_id();
  EXPECT_EQ(tag1.size(), 8u);
  EXPECT_NE(tag1, tag2);
  ASSERT_EQ(a.size(), 28u) << a;
  EXPECT_EQ(a.substr(20), tag1);
  EXPECT_EQ(b.substr(20), tag2);
  EXPECT_TRUE(bh::valid_queue_id(a));
  EXPECT_TRUE(bh::valid_queue_id(b));
  bh::set_queue_id_node("mx1.example.test");
  EXPECT_EQ(bh::queue_id_node_tag(), tag1);
  // Sortable by arrival: the time comes first.
  std::string c = bh::make_queue_id();
  EXPECT_LT(a, c);
}

}  // namespace
