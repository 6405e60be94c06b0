#include "queue/checksum.hpp"

#include <cstring>

namespace bh::queue {
namespace {

constexpr std::uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;

std::uint64_t mix(std::uint64_t hash, std::uint64_t word) {
  hash = (hash ^ word) * kMultiplier;
  return hash ^ (hash >> 29);
}

std::uint64_t finish(std::uint64_t hash, const unsigned char* tail_bytes, std::size_t tail_size,
                     std::uint64_t total) {
  std::uint64_t tail = total;  // the length keeps "ab" and "ab\0" apart
  std::memcpy(&tail, tail_bytes, tail_size);
  hash = (hash ^ tail ^ (total << 56)) * kMultiplier;
  return hash ^ (hash >> 29);
}

}  // namespace

std::uint64_t checksum(std::string_view data, std::uint64_t hash) {
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data.data() + i, 8);
    hash = mix(hash, word);
  }
  return finish(hash, reinterpret_cast<const unsigned char*>(data.data() + i), data.size() - i,
                data.size());
}

void StreamChecksum::word(std::uint64_t w) {
  hash_ = mix(hash_, w);
}

void StreamChecksum::update(std::string_view data) {
  total_ += data.size();
  std::size_t i = 0;
  if (carried_ > 0) {
    std::size_t take = std::min(8 - carried_, data.size());
    std::memcpy(carry_ + carried_, data.data(), take);
    carried_ += take;
    i = take;
    if (carried_ < 8) return;
    std::uint64_t w;
    std::memcpy(&w, carry_, 8);
    word(w);
    carried_ = 0;
  }
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    word(w);
  }
  carried_ = data.size() - i;
  std::memcpy(carry_, data.data() + i, carried_);
}

std::uint64_t StreamChecksum::value() const {
  return finish(hash_, carry_, carried_, total_);
}

}  // namespace bh::queue
