#include "mail/queue_id.hpp"

#include <atomic>
#include <chrono>

#include <fmt/format.h>

namespace bh {

std::string make_queue_id() {
  static std::atomic<unsigned> counter{0};
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  unsigned sequence = counter.fetch_add(1, std::memory_order_relaxed) & 0xFFFF;
  return fmt::format("{:016X}{:04X}", static_cast<unsigned long long>(micros), sequence);
}

bool valid_queue_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

}  // namespace bh
