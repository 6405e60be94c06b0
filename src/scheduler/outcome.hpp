// What happens to a message after a delivery attempt: recipients that are
// done leave the queue file, refused ones are reported to the sender in a
// DSN, the rest wait in deferred/ (a delay DSN once, after delay_warning).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "policy/policy_set.hpp"
#include "queue/done_log.hpp"
#include "queue/spool.hpp"
#include "trace/event.hpp"

namespace bh {

struct OutcomeSettings {
  std::string hostname = "localhost";  // Reporting-MTA of DSNs
  std::chrono::seconds retry_delay{300};
  std::chrono::seconds max_retry_delay{4000};
  std::chrono::seconds max_lifetime{432000};
  std::chrono::seconds delay_warning{14400};
  // DSNs go through the intake (routing, rules, the stamp) like any message.
  const PolicyHolder* policy = nullptr;
  trace::Sink* trace = nullptr;  // expiries and DSNs; null: not traced
  // The connector of that name, for what it kept for the success reports
  // of its pending deliveries (Connector::report_attachment, a fax's page
  // one); null, or a null result: none.
  std::function<connectors::Connector*(const std::string&)> connector;
};

enum class Disposition { delivered, deferred, held, gone };

struct RecordedOutcome {
  Disposition disposition = Disposition::gone;
  bool durable = true;  // false: the queue file could not be rewritten (the old one stays)
  std::vector<std::string> new_messages;  // DSNs placed in incoming/
};

// Runs on a delivery thread (blocking file I/O). The message is in active/;
// the final results are in the done log already (the scheduler put them there).
RecordedOutcome record_outcome(const queue::Spool& spool, queue::DoneLog& done_log,
                               const OutcomeSettings& settings, const queue::QueuedMessage& message,
                               const std::vector<connectors::RecipientResult>& results,
                               const std::function<std::string()>& make_queue_id);

}  // namespace bh
