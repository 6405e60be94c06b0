// Connections at once, in total and per client IP, shared by all I/O threads.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

namespace bh::smtp {

class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t total, std::size_t per_ip) : total_limit_(total), per_ip_(per_ip) {}

  enum class Verdict { admitted, too_many_total, too_many_from_ip };
  Verdict admit(const std::string& ip);
  void release(const std::string& ip);

 private:
  std::mutex mutex_;
  std::size_t total_limit_;
  std::size_t per_ip_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_ip_;
};

// Releases the slot when the session ends, however it ends.
class ConnectionSlot {
 public:
  ConnectionSlot(ConnectionLimiter& limiter, std::string ip)
      : limiter_(limiter), ip_(std::move(ip)) {}
  ~ConnectionSlot() { limiter_.release(ip_); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  ConnectionLimiter& limiter_;
  std::string ip_;
};

}  // namespace bh::smtp
