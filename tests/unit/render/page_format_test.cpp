#include "render/page_format.hpp"

#include <gtest/gtest.h>

namespace bh::render {
namespace {

TEST(RenderPageFormat, HeightsFollowPaperAndResolution) {
  PageFormat format;
  EXPECT_EQ(format.height_px(), 2292);  // A4 fine
  format.resolution = Resolution::normal;
  EXPECT_EQ(format.height_px(), 1146);
  format.paper = Paper::letter;
  EXPECT_EQ(format.height_px(), 1078);
  format.resolution = Resolution::fine;
  EXPECT_EQ(format.height_px(), 2156);
  EXPECT_NEAR(format.width_pt(), 609.9, 0.1);  // 1728 px at 204 dpi
}

}  // namespace
}  // namespace bh::render
