// The queue file checksums: a 64-bit multiply-xorshift hash over 8-byte
// words, several GB/s and enough to tell a torn or zero-filled write from a
// whole one (not a cryptographic check).
#pragma once

#include <cstdint>
#include <string_view>

namespace bh::queue {

inline constexpr std::uint64_t kChecksumSeed = 0x6a09e667f3bcc909ULL;

// Format 1: each buffer hashed on its own, chained by seed.
std::uint64_t checksum(std::string_view data, std::uint64_t seed = kChecksumSeed);

// Format 2: one hash over the file as it is written, in pieces of any size
// (the session streams the body, the queue writer adds the rest).
class StreamChecksum {
 public:
  void update(std::string_view data);
  std::uint64_t value() const;  // of everything so far

 private:
  void word(std::uint64_t w);

  std::uint64_t hash_ = kChecksumSeed;
  std::uint64_t total_ = 0;
  unsigned char carry_[8] = {};
  std::size_t carried_ = 0;
};

}  // namespace bh::queue
