#include "smtp/server/connection_limiter.hpp"

namespace bh::smtp {

ConnectionLimiter::Verdict ConnectionLimiter::admit(const std::string& ip) {
  std::lock_guard lock(mutex_);
  if (total_ >= total_limit_) return Verdict::too_many_total;
  auto it = by_ip_.find(ip);
  if (it != by_ip_.end() && it->second >= per_ip_) return Verdict::too_many_from_ip;
  ++by_ip_[ip];
  ++total_;
  return Verdict::admitted;
}

void ConnectionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end()) return;
  --total_;
  if (--it->second == 0) by_ip_.erase(it);
}

}  // namespace bh::smtp
