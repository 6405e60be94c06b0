// Replays every golden transcript in tests/unit/transcripts/ and compares.
// Rewriting them from the machine's behaviour is a separate command,
// build/tests/update_transcripts (then review the diff: the files are the
// specification); nothing here skips the comparison.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "transcript.hpp"

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class Transcript : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(Transcript, MatchesGolden) {
  auto [comments, golden] = split_comments(read(GetParam()));
  std::string actual = replay_transcript(golden);
  EXPECT_EQ(golden, actual) << "transcript " << GetParam();
}

std::vector<std::filesystem::path> transcripts() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(BH_TRANSCRIPT_DIR))
    if (entry.path().extension() == ".smtp") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Golden, Transcript, testing::ValuesIn(transcripts()),
                         [](const auto& info) { return info.param.stem().string(); });

}  // namespace
