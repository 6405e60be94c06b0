// The ingest folder with a stand-in for FaxIngest: what it hands on, what
// it does with each answer, and that its thread survives an exception.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "connectors/fax/ingest_folder.hpp"
#include "tests/unit/temp_dir.hpp"
#include "util/files.hpp"

namespace bh::connectors::fax {
namespace {
namespace fs = std::filesystem;

class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("bh-fax-folder") {}
};

void drop(const fs::path& folder, const std::string& name, const std::string& job) {
  std::ofstream(folder / (name + ".tif"), std::ios::binary) << "II*";
  std::ofstream(folder / (name + ".json"), std::ios::binary) << job;
}

IngestAnswer answer_with(IngestStatus status, std::string reason = "") {
  IngestAnswer a;
  a.status = status;
  a.reason = std::move(reason);
  return a;
}

TEST(FaxIngestFolder, HandsOnTheJobAndActsOnTheAnswer) {
  TempDir dir;
  std::vector<ReceivedFax> seen;
  IngestStatus next = IngestStatus::queued;
  IngestFolder folder(dir.path(), std::chrono::seconds(60), [&](const ReceivedFax& fax) {
    seen.push_back(fax);
    return answer_with(next, "why");
  });
  drop(dir.path(), "a", R"({"called": "+4930111", "expected_tenant": "t1"})");
  folder.scan_once();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].called, "+4930111");
  EXPECT_EQ(seen[0].expected_tenant, "t1");
  EXPECT_EQ(seen[0].tiff, dir.path() / "a.tif");
  EXPECT_EQ(seen[0].source, "folder");
  EXPECT_FALSE(fs::exists(dir.path() / "a.tif"));  // queued: removed
  EXPECT_FALSE(fs::exists(dir.path() / "a.json"));

  next = IngestStatus::unavailable;
  drop(dir.path(), "b", R"({"called": "+4930111"})");
  folder.scan_once();
  EXPECT_TRUE(fs::exists(dir.path() / "b.tif"));  // kept for the next look
  next = IngestStatus::refused;
  folder.scan_once();
  EXPECT_FALSE(fs::exists(dir.path() / "b.tif"));
  EXPECT_TRUE(fs::exists(dir.path() / "rejected" / "b.tif"));
  EXPECT_EQ(*read_whole_file(dir.path() / "rejected" / "b.reason"), "refused: why\n");
  EXPECT_EQ(seen.size(), 3u);
}

TEST(FaxIngestFolder, ABadOrLinkedJobFileIsRejectedWithoutAnIngest) {
  TempDir dir;
  int calls = 0;
  IngestFolder folder(dir.path(), std::chrono::seconds(60), [&](const ReceivedFax&) {
    ++calls;
    return answer_with(IngestStatus::queued);
  });
  drop(dir.path(), "bad", R"({"called": 5})");
  TempDir outside;
  std::ofstream(outside.path() / "job.json") << R"({"called": "+4930111"})";
  std::ofstream(dir.path() / "link.tif") << "II*";
  fs::create_symlink(outside.path() / "job.json", dir.path() / "link.json");
  drop(dir.path(), "alone", R"({"called": "+4930111"})");
  fs::remove(dir.path() / "alone.tif");
  folder.scan_once();
  EXPECT_EQ(calls, 0);
  auto reason = [&](const std::string& name) {
    auto text = read_whole_file(dir.path() / "rejected" / (name + ".reason"));
    return text ? *text : "<none>";
  };
  EXPECT_NE(reason("bad").find("\"called\" must be a string"), std::string::npos);
  EXPECT_NE(reason("link").find("symbolic link"), std::string::npos) << reason("link");
  EXPECT_NE(reason("alone").find("alone.tif is missing"), std::string::npos);
  // The link was moved, not what it points to.
  EXPECT_TRUE(fs::is_symlink(dir.path() / "rejected" / "link.json"));
  EXPECT_EQ(*read_whole_file(outside.path() / "job.json"), R"({"called": "+4930111"})");
}

TEST(FaxIngestFolder, TheThreadGoesOnAfterAnException) {
  TempDir dir;
  std::atomic<int> calls{0};
  IngestFolder folder(dir.path(), std::chrono::seconds(1), [&](const ReceivedFax&) {
    if (calls++ == 0) throw std::runtime_error("a bug");
    return answer_with(IngestStatus::queued);
  });
  drop(dir.path(), "a", R"({"called": "+4930111"})");
  folder.start();
  // The first look throws; a later one (after the backoff) takes the fax.
  for (int i = 0; i < 200 && fs::exists(dir.path() / "a.json"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  folder.stop();
  EXPECT_GE(calls.load(), 2);
  EXPECT_FALSE(fs::exists(dir.path() / "a.json"));
}

}  // namespace
}  // namespace bh::connectors::fax
