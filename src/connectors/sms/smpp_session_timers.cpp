// The session's time: response timeouts of our requests (a lost submit,
// a dead link) and enquire_link after a quiet interval.
#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "connectors/sms/smpp_session.hpp"
#include "connectors/sms/smpp_session_internal.hpp"

namespace bh::connectors::sms::smpp {

namespace {

// "30 s", or "1500 ms" when not whole seconds.
std::string duration_text(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{} s", duration.count() / 1000);
  return fmt::format("{} ms", duration.count());
}

}  // namespace

void SessionMachine::tick(Clock::time_point now) {
  if (state_ == SessionState::closed) return;
  // Expired requests, oldest deadline first: a lost submit goes on, a lost
  // bind, enquire_link or unbind closes.
  std::vector<std::pair<Clock::time_point, std::uint32_t>> expired;
  for (const auto& [sequence, request] : outstanding_)
    if (request.deadline <= now) expired.emplace_back(request.deadline, sequence);
  std::sort(expired.begin(), expired.end());
  for (const auto& [deadline, sequence] : expired) {
    auto found = outstanding_.find(sequence);
    if (found == outstanding_.end()) continue;
    Outstanding request = found->second;
    std::string text = fmt::format("no answer to {} within {}", command_text(request.command_id),
                                   duration_text(settings_.response_timeout));
    if (request.command_id != command::submit_sm) return close(text);
    outstanding_.erase(found);
    --submits_outstanding_;
    late_.emplace(sequence, request.token);
    late_order_.push_back(sequence);
    if (late_order_.size() > kMaxLateSubmits) {
      late_.erase(late_order_.front());
      late_order_.pop_front();
    }
    events_.emplace_back(SubmitLost{request.token, text, true});
    if (++submit_timeouts_ >= kMaxSubmitTimeouts)
      return close(fmt::format("no answer to {} submit_sm in a row within {}", submit_timeouts_,
                               duration_text(settings_.response_timeout)));
  }
  if (state_ != SessionState::bound) return;
  bool enquiring = std::any_of(outstanding_.begin(), outstanding_.end(), [](const auto& entry) {
    return entry.second.command_id == command::enquire_link;
  });
  if (!enquiring && now >= last_received_ + settings_.enquire_link_interval) {
    Pdu enquire;
    enquire.command_id = command::enquire_link;
    enquire.sequence = next_sequence();
    (void)send_request(enquire, 0, now);
  }
}

std::optional<Clock::time_point> SessionMachine::next_deadline() const {
  if (state_ == SessionState::closed || state_ == SessionState::idle) return std::nullopt;
  std::optional<Clock::time_point> next;
  bool enquiring = false;
  for (const auto& [sequence, request] : outstanding_) {
    if (!next || request.deadline < *next) next = request.deadline;
    if (request.command_id == command::enquire_link) enquiring = true;
  }
  if (state_ == SessionState::bound && !enquiring) {
    Clock::time_point due = last_received_ + settings_.enquire_link_interval;
    if (!next || due < *next) next = due;
  }
  return next;
}

}  // namespace bh::connectors::sms::smpp
