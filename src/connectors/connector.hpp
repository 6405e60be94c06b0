// The one interface every delivery adapter implements: take a message and
// some of its recipients, report per recipient what became of them, by
// calling done exactly once (from any thread). Anything not positively
// final is a deferral.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "queue/spool_format.hpp"

namespace bh::connectors {

enum class Outcome { delivered, deferred, bounced };

struct RecipientResult {
  Outcome outcome = Outcome::deferred;
  std::string status;      // enhanced status code, "2.0.0"
  std::string diagnostic;  // the peer's reply or our reason, for the log and the DSN
  std::string remote_mta;  // the host that answered, if any
  // For NOTIFY=SUCCESS: "delivered" (final delivery), "relayed" (handed to a
  // hop that will not report), or empty (the next hop reports itself).
  std::string success_action;
};

struct DeliveryRequest {
  std::shared_ptr<const queue::QueuedMessage> message;
  std::vector<std::size_t> recipients;  // indexes into message->envelope.recipients

  const Envelope& envelope() const { return message->envelope; }
  std::string_view content() const { return message->content; }
};

using DeliveryDone = std::function<void(std::vector<RecipientResult>)>;

class Connector {
 public:
  virtual ~Connector() = default;
  virtual void deliver(DeliveryRequest request, DeliveryDone done) = 0;
  virtual void stop() {}
};

// All recipients of a request share one result.
inline std::vector<RecipientResult> same_for_all(const DeliveryRequest& request,
                                                 RecipientResult result) {
  return std::vector<RecipientResult>(request.recipients.size(), result);
}

}  // namespace bh::connectors
