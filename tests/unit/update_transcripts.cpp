// Rewrites the golden transcripts from the session machine's behaviour:
// `build/tests/update_transcripts [FILE.smtp ...]` (all of them without
// arguments). Review the diff afterwards: the files are the specification.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "transcript.hpp"

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) files.emplace_back(argv[i]);
  if (files.empty())
    for (const auto& entry : std::filesystem::directory_iterator(BH_TRANSCRIPT_DIR))
      if (entry.path().extension() == ".smtp") files.push_back(entry.path());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto [comments, body] = split_comments(text.str());
    std::string actual = replay_transcript(body);
    std::ofstream(file, std::ios::binary) << comments << actual;
    std::cout << (actual == body ? "unchanged " : "rewritten ") << file.string() << "\n";
  }
  return 0;
}
