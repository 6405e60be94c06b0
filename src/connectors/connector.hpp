// The one interface every delivery adapter implements: take a message and
// some of its recipients, say per recipient what became of them. Anything
// not positively final is a deferral.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mail/envelope.hpp"

namespace bh::connectors {

enum class Outcome { delivered, deferred, bounced };

struct RecipientResult {
  Outcome outcome = Outcome::deferred;
  std::string status;      // enhanced status code, "2.0.0"
  std::string diagnostic;  // for the log and the DSN
};

struct DeliveryRequest {
  const Envelope& envelope;
  std::string_view content;
  std::vector<std::size_t> recipients;  // indexes into envelope.recipients
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Called on a delivery thread; may block. One result per request recipient.
  virtual std::vector<RecipientResult> deliver(const DeliveryRequest& request) = 0;
};

// All recipients of a request share one result.
inline std::vector<RecipientResult> same_for_all(const DeliveryRequest& request,
                                                 RecipientResult result) {
  return std::vector<RecipientResult>(request.recipients.size(), result);
}

}  // namespace bh::connectors
