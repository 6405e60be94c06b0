// The session's clock: every deadline the client must meet (a command line,
// a text line, the data rate, the whole session), decided here so that the
// driver only arms a timer (docs/configuration.md, [limits]).
#include <algorithm>

#include <fmt/format.h>

#include "smtp/server/session_machine.hpp"

namespace bh::smtp {

std::int64_t SessionMachine::clock_ms() const {
  return settings_.now_ms ? settings_.now_ms() : 0;
}

std::int64_t SessionMachine::line_deadline_ms() const {
  return line_started_ms_ + std::int64_t{settings_.limits.idle_timeout_seconds} * 1000;
}

// DATA text or a BDAT chunk: once idle_timeout has passed since it started,
// the bytes received must be at least min_data_rate x elapsed. The first
// millisecond at which they are not.
std::optional<std::int64_t> SessionMachine::rate_deadline_ms() const {
  std::uint64_t rate = settings_.limits.min_data_rate;
  if ((phase_ != Phase::data && phase_ != Phase::bdat) || rate == 0) return std::nullopt;
  constexpr std::uint64_t kFar = std::uint64_t{1} << 50;  // ms: no overflow below
  std::uint64_t earned = content_bytes_ >= kFar / 1000 ? kFar : content_bytes_ * 1000 / rate + 1;
  std::uint64_t grace = std::uint64_t{settings_.limits.idle_timeout_seconds} * 1000;
  return content_started_ms_ + static_cast<std::int64_t>(std::max(grace, earned));
}

std::optional<std::int64_t> SessionMachine::deadline_ms() const {
  if (!settings_.now_ms || phase_ == Phase::awaiting_commit || phase_ == Phase::closed)
    return std::nullopt;
  std::int64_t deadline = line_deadline_ms();
  if (auto rate = rate_deadline_ms()) deadline = std::min(deadline, *rate);
  if (std::int64_t drain = drain_at(); drain != 0) {
    bool content = phase_ == Phase::data || phase_ == Phase::bdat;
    deadline = std::min(deadline, content ? drain : clock_ms());
  }
  return std::min(deadline, session_started_ms_ +
                                std::int64_t{settings_.limits.session_timeout_seconds} * 1000);
}

void SessionMachine::content_started() {
  content_started_ms_ = clock_ms();
  content_bytes_ = 0;
}

// A line of message text ended in these bytes: the next one's time starts.
void SessionMachine::content_arrived(std::string_view bytes) {
  content_bytes_ += bytes.size();
  if (bytes.find('\n') != std::string_view::npos) line_started_ms_ = clock_ms();
}

std::int64_t SessionMachine::drain_at() const {
  return settings_.drain_at_ms ? settings_.drain_at_ms->load(std::memory_order_relaxed) : 0;
}

void SessionMachine::timed_out() {
  if (drain_at() != 0 && phase_ != Phase::closed) {
    reply(
        421, "4.3.2",
        fmt::format("{} Service shutting down, closing transmission channel", settings_.hostname));
    return close_with("shutdown");
  }
  // The log says which deadline passed (the reply is the same for all).
  std::string reason = "timeout";
  if (settings_.now_ms && phase_ != Phase::closed) {
    std::int64_t now = clock_ms();
    auto rate = rate_deadline_ms();
    bool content = phase_ == Phase::data || phase_ == Phase::bdat;
    if (now >= session_started_ms_ + std::int64_t{settings_.limits.session_timeout_seconds} * 1000)
      reason = "session timeout";
    else if (rate && now >= *rate && *rate < line_deadline_ms())
      reason = fmt::format("data rate below {} bytes/s", settings_.limits.min_data_rate);
    else if (now >= line_deadline_ms())
      reason = content ? "data timeout" : "command timeout";
  }
  reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", settings_.hostname));
  close_with(std::move(reason));
}

}  // namespace bh::smtp
