#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "queue/done_log.hpp"
#include "queue/spool.hpp"

using namespace bh;

namespace {

std::filesystem::path fresh_root(const std::string& name) {
  auto root = std::filesystem::temp_directory_path() /
              ("bh-donelog-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  return root;
}

Envelope message(const std::string& id, std::uint32_t generation) {
  Envelope e;
  e.queue_id = id;
  e.generation = generation;
  e.recipients = {{Address{"a", "x.test"}}, {Address{"b", "x.test"}}};
  return e;
}

queue::DoneRecord result(const std::string& id, std::uint32_t generation, std::size_t index,
                         bool delivered) {
  queue::DoneRecord r;
  r.id = id;
  r.generation = generation;
  r.index = index;
  r.result = {delivered, delivered ? "2.0.0" : "5.1.1", "mx.x.test", "", "said: 550 no such\r\n"};
  return r;
}

}  // namespace

TEST(DoneLog, RecordsRoundTripAndTornLinesAreRefused) {
  queue::DoneRecord r = result("AAAA0001", 3, 1, false);
  std::string line = queue::format_done_record(r);
  ASSERT_TRUE(line.ends_with("\n"));
  EXPECT_EQ(line.find('\r'), std::string::npos);  // values are encoded, one record per line
  auto back = queue::parse_done_record(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "AAAA0001");
  EXPECT_EQ(back->generation, 3u);
  EXPECT_EQ(back->index, 1u);
  EXPECT_FALSE(back->result.delivered);
  EXPECT_EQ(back->result.diagnostic, "said: 550 no such\r\n");
  EXPECT_FALSE(queue::parse_done_record(std::string_view(line).substr(0, line.size() / 2)));
  std::string flipped = line.substr(0, line.size() - 1);
  flipped[2] = 'B';
  EXPECT_FALSE(queue::parse_done_record(flipped));
  queue::DoneRecord dsn;
  dsn.id = "AAAA0001";
  dsn.dsn_kind = "failure";
  dsn.dsn_id = "AAAA0009";
  std::string dsn_line = queue::format_done_record(dsn);
  auto dsn_back =
      queue::parse_done_record(std::string_view(dsn_line).substr(0, dsn_line.size() - 1));
  ASSERT_TRUE(dsn_back);
  EXPECT_EQ(dsn_back->dsn_id, "AAAA0009");
}

TEST(DoneLog, SurvivesRestartForQueuedMessagesAtTheirGeneration) {
  auto root = fresh_root("restart");
  queue::Spool spool(root);
  ASSERT_TRUE(spool.create_layout());
  ASSERT_TRUE(queue::Spool::write_file(spool.file(queue::State::active, "AAAA0001"),
                                       message("AAAA0001", 0), "x\r\n"));
  ASSERT_TRUE(queue::Spool::write_file(spool.file(queue::State::deferred, "AAAA0002"),
                                       message("AAAA0002", 2), "x\r\n"));
  {
    queue::DoneLog log(root / "done");
    ASSERT_TRUE(log.open(spool));
    log.start();
    ASSERT_TRUE(log.append_and_wait({result("AAAA0001", 0, 1, true)}));
    ASSERT_TRUE(log.append_and_wait({result("AAAA0002", 1, 0, true)}));  // older generation
    ASSERT_TRUE(log.append_and_wait({result("AAAA0003", 0, 0, true)}));  // message gone
    queue::DoneRecord dsn;
    dsn.id = "AAAA0001";
    dsn.dsn_kind = "failure";
    dsn.dsn_id = "AAAA0009";
    dsn.covers = {0};
    ASSERT_TRUE(log.append_and_wait({dsn}));
    EXPECT_EQ(log.marks("AAAA0001", 0).results.size(), 1u);
  }  // as after a crash: nothing was forgotten
  // A torn last line (the write the crash interrupted) is ignored.
  for (const auto& f : std::filesystem::directory_iterator(root / "done"))
    std::ofstream(f.path(), std::ios::app) << "R AAAA0001 0 0 deliv";
  queue::DoneLog again(root / "done");
  ASSERT_TRUE(again.open(spool));
  queue::Marks marks = again.marks("AAAA0001", 0);
  ASSERT_EQ(marks.results.size(), 1u);
  EXPECT_TRUE(marks.results.at(1).delivered);
  EXPECT_EQ(marks.dsns.at("AAAA0009").kind, "failure");
  EXPECT_TRUE(marks.reported("failure", 0));
  EXPECT_FALSE(marks.reported("failure", 1));
  EXPECT_FALSE(marks.reported("success", 0));
  EXPECT_TRUE(again.marks("AAAA0002", 2).results.empty());
  EXPECT_TRUE(again.marks("AAAA0003", 0).results.empty());
  EXPECT_EQ(again.committed_dsns(), std::set<std::string>{"AAAA0009"});
  // Old files were replaced by one with the live records.
  std::size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(root / "done")) {
    (void)f;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(root);
}
