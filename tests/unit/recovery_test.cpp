#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "queue/recovery.hpp"

using namespace bh;

namespace {
Envelope envelope(const std::string& id) {
  Envelope e;
  e.queue_id = id;
  e.arrival = 1795000000;
  e.recipients.push_back({Address{"b", "example.test"}});
  return e;
}
}  // namespace

TEST(Recovery, SortsLeftoversOut) {
  auto root = std::filesystem::temp_directory_path() / ("bh-recovery-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  queue::Spool spool(root);
  ASSERT_TRUE(spool.create_layout());
  // A complete, committed DSN that did not reach incoming/, an unfinished rewrite, a torn intake
  // file, a message interrupted in delivery and a damaged one in incoming/.
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA0001.new", envelope("AAAA0001"),
                                       "dsn\r\n"));
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA0002.rewrite",
                                       envelope("AAAA0002"), "x\r\n"));
  std::ofstream(spool.tmp_folder() / "AAAA0003") << "BRIDGEHEAD-QUEUE 1\nid AAAA0003\n";
  ASSERT_TRUE(queue::Spool::write_file(spool.file(queue::State::active, "AAAA0004"),
                                       envelope("AAAA0004"), "y\r\n"));
  std::ofstream(spool.file(queue::State::incoming, "AAAA0005")) << "garbage";
  // A DSN the done log never committed, and a received message flushed but not yet renamed.
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA0006.new", envelope("AAAA0006"),
                                       "dsn\r\n"));
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA0007.ready", envelope("AAAA0007"),
                                       "z\r\n"));

  // A reception still arriving (no end record): never acknowledged, removed.
  std::ofstream(spool.tmp_folder() / "AAAA0008.part") << "BRIDGEHEAD-QUEUE 2\nhalf a body";
  // A .part that looks complete (a client can write a whole file as its body) is never trusted,
  // and a .ready whose envelope names another id is not queued.
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA0009.part", envelope("AAAA0009"),
                                       "forged\r\n"));
  ASSERT_TRUE(queue::Spool::write_file(spool.tmp_folder() / "AAAA000A.ready", envelope("AAAA0001"),
                                       "other id\r\n"));

  queue::RecoveryReport report = queue::recover(spool, {"AAAA0001"});
  EXPECT_EQ(report.abandoned, 3u);
  EXPECT_FALSE(spool.locate("AAAA0008"));
  EXPECT_FALSE(spool.locate("AAAA0009"));
  EXPECT_FALSE(spool.locate("AAAA000A"));
  EXPECT_EQ(report.uncommitted_dsns, 1u);
  EXPECT_EQ(report.queued_from_tmp, 2u);
  EXPECT_FALSE(spool.locate("AAAA0006"));
  EXPECT_EQ(spool.locate("AAAA0007"), queue::State::incoming);
  EXPECT_EQ(report.half_written, 1u);
  EXPECT_EQ(report.damaged, 1u);
  EXPECT_EQ(report.interrupted, 1u);
  EXPECT_EQ(spool.locate("AAAA0001"), queue::State::incoming);
  EXPECT_FALSE(spool.locate("AAAA0002"));
  EXPECT_EQ(spool.locate("AAAA0003"), queue::State::corrupt);
  EXPECT_EQ(spool.locate("AAAA0004"), queue::State::incoming);
  EXPECT_EQ(spool.locate("AAAA0005"), queue::State::corrupt);
  EXPECT_TRUE(std::filesystem::is_empty(spool.tmp_folder()));
  std::filesystem::remove_all(root);
}
