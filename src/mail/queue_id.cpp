#include "mail/queue_id.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>

#include <fmt/format.h>

namespace bh {
namespace {

// The node tag plus one (0: none set), so a thread making an id never reads
// a half-written string.
std::atomic<std::uint64_t> node_tag{0};

}  // namespace

void set_queue_id_node(std::string_view node) {
  std::uint32_t hash = 2166136261u;  // FNV-1a, 32 bits
  for (unsigned char c : node) {
    hash ^= c;
    hash *= 16777619u;
  }
  node_tag.store(std::uint64_t{hash} + 1, std::memory_order_relaxed);
}

std::string queue_id_node_tag() {
  std::uint64_t tag = node_tag.load(std::memory_order_relaxed);
  if (tag == 0) return "";
  return fmt::format("{:08X}", tag - 1);
}

std::string make_queue_id() {
  static std::atomic<unsigned> counter{0};
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  unsigned sequence = counter.fetch_add(1, std::memory_order_relaxed) & 0xFFFF;
  return fmt::format("{:016X}{:04X}{}", static_cast<unsigned long long>(micros), sequence,
                     queue_id_node_tag());
}

bool valid_queue_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

}  // namespace bh
