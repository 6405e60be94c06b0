// The trace events of delivery (the scheduler's part): routing of a
// recipient, each attempt with the peer's reply, pending, the final
// outcome and the DSN. Pure: builds events, the caller records them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"
#include "mail/envelope.hpp"
#include "trace/event.hpp"

namespace bh::trace {

using connectors::outcome_name;

TraceEvent route_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                       bool by_rule);
// stage: the outcome ("delivered", "deferred", "bounced", "pending").
TraceEvent attempt_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const connectors::RecipientResult& result, std::int64_t duration_ms);
// delivered or bounced (a final result); how: "attempt" or "report".
TraceEvent final_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                       const connectors::RecipientResult& result, std::string_view how);
TraceEvent pending_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const connectors::RecipientResult& result);
TraceEvent expired_event(const Envelope& envelope, std::size_t index, const std::string& connector,
                         const std::string& status, const std::string& diagnostic);
// On the original message: a DSN of this kind (failure, delay, success) was queued.
TraceEvent dsn_event(const Envelope& original, std::string_view kind, const std::string& dsn_id,
                     std::size_t recipients);
// The DSN's own trace starts with it being made.
TraceEvent dsn_made_event(const Envelope& dsn, std::string_view kind,
                          const std::string& original_id);

}  // namespace bh::trace
